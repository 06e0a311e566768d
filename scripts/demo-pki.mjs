// A throwaway PKI for the demo peers, the tests and the benchmark: a CA made on the spot with Debian's
// `openssl`, and certificates with each problem the component must name. Keys live in the directory given
// (a temporary one by default) and nowhere else; nothing here is ever committed.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A key and certificate in PEM, as text and as files.
 * @typedef {{ key: string, cert: string, keyFile: string, certFile: string }} Credentials
 */

/**
 * The CA and the certificates it (or another) issued.
 * @typedef {{
 *   caPem: string, caFile: string,
 *   good: Credentials, namesOnly: Credentials, expired: Credentials, untrusted: Credentials, selfSigned: Credentials,
 *   remove(): void,
 * }} Pki
 * `good`: localhost, 127.0.0.1 and ::1, valid now; `namesOnly`: localhost only (no IP address); `expired`: valid
 * in 2000 only; `untrusted`: issued by a second CA nobody trusts; `selfSigned`: its own issuer, marked as a CA,
 * as `openssl req -x509` makes them.
 */

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * Makes the PKI in `dir` (default: a fresh temporary directory).
 * @param {string} [dir]
 * @returns {Pki}
 */
export function makePki(dir) {
  if (dir) return makePkiIn(dir);
  // A directory of its own is removed again when making the PKI fails (openssl missing or failing).
  const own = mkdtempSync(join(tmpdir(), 'ai-agent-sockets-pki-'));
  try {
    return makePkiIn(own);
  } catch (error) {
    rmSync(own, { recursive: true, force: true });
    throw error;
  }
}

/**
 * @param {string} dir
 * @returns {Pki}
 */
function makePkiIn(dir) {
  /** @param {string[]} args */
  const openssl = (args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  /** @param {string} name */
  const credentials = (name) => {
    const keyFile = join(dir, `${name}.key`);
    const certFile = join(dir, `${name}.pem`);
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), keyFile, certFile };
  };
  /** @param {string} name */
  const ca = (name) => {
    openssl(['req', '-x509', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=ai-agent-sockets demo ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    // `openssl ca` keeps a database of what it issued; each CA gets its own.
    writeFileSync(join(dir, `${name}.index`), '');
    writeFileSync(join(dir, `${name}.serial`), '1000\n');
    writeFileSync(join(dir, `${name}.cnf`), [
      '[ca]', `default_ca = ${name}`, `[${name}]`, `database = ${name}.index`, 'new_certs_dir = .', `serial = ${name}.serial`, 'default_md = sha256',
      'policy = any', 'copy_extensions = copy', 'unique_subject = no', '[any]', 'commonName = supplied', '[leaf]',
      'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth', '',
    ].join('\n'));
  };
  /** @param {string} name @param {string} issuer @param {string} sans @param {string[]} [dates] */
  const issue = (name, issuer, sans, dates = ['-days', '2']) => {
    openssl(['req', '-new', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost', '-addext', `subjectAltName=${sans}`]);
    openssl(['ca', '-batch', '-notext', '-config', `${issuer}.cnf`, '-extensions', 'leaf', '-cert', `${issuer}.pem`, '-keyfile', `${issuer}.key`,
      '-in', `${name}.csr`, '-out', `${name}.pem`, ...dates]);
    return credentials(name);
  };
  ca('ca');
  ca('other-ca');
  openssl(['req', '-x509', ...NEW_KEY, '-keyout', 'self.key', '-out', 'self.pem', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  return {
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    caFile: join(dir, 'ca.pem'),
    good: issue('good', 'ca', 'DNS:localhost,IP:127.0.0.1,IP:::1'),
    namesOnly: issue('names-only', 'ca', 'DNS:localhost'),
    expired: issue('expired', 'ca', 'DNS:localhost,IP:127.0.0.1', ['-startdate', '20000101000000Z', '-enddate', '20010101000000Z']),
    untrusted: issue('untrusted', 'other-ca', 'DNS:localhost,IP:127.0.0.1'),
    selfSigned: credentials('self'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
