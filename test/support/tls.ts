// TLS for the tests: a CA made for the run with Debian's `openssl` (keys live in a temporary directory and go
// with it), certificates with each problem the component must name, and loopback TLS peers on node:tls.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { freePort } from './hosts.js';
import { tcpPeer, type Peer } from './peers.js';

/** A key and certificate chain in PEM. */
export interface Credentials {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

/** The run's CA and the certificates the suites serve. */
export interface Pki {
  /** The trusted CA (the component gets it as TLS_CA_CERTS). */
  caPem: string;
  /** localhost, 127.0.0.1 and ::1, valid now. */
  good: Credentials;
  /** localhost only: no IP address in its names. */
  namesOnly: Credentials;
  /** localhost and 127.0.0.1, valid in 2000 only. */
  expired: Credentials;
  /** Issued by a second CA that nobody trusts. */
  untrusted: Credentials;
  /** Its own issuer, marked as a CA, as `openssl req -x509` makes them. */
  selfSigned: Credentials;
  remove(): void;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Makes the run's PKI in a fresh temporary directory. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'tls-test-'));
  const ca = (name: string) => {
    openssl(['req', '-x509', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=ai-agent-sockets test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    // `openssl ca` keeps a database of what it issued; each CA gets its own.
    writeFileSync(join(dir, `${name}.index`), '');
    writeFileSync(join(dir, `${name}.cnf`), [
      '[ca]', `default_ca = ${name}`, `[${name}]`, `database = ${name}.index`, 'new_certs_dir = .', `serial = ${name}.serial`, 'default_md = sha256',
      'policy = any', 'copy_extensions = copy', 'unique_subject = no', '[any]', 'commonName = supplied', '[leaf]',
      'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth', '',
    ].join('\n'));
    writeFileSync(join(dir, `${name}.serial`), '1000\n');
  };
  const issue = (name: string, issuer: string, sans: string, dates: string[] = ['-days', '2']): Credentials => {
    openssl(['req', '-new', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost', '-addext', `subjectAltName=${sans}`], dir);
    openssl(['ca', '-batch', '-notext', '-config', `${issuer}.cnf`, '-extensions', 'leaf', '-cert', `${issuer}.pem`, '-keyfile', `${issuer}.key`,
      '-in', `${name}.csr`, '-out', `${name}.pem`, ...dates], dir);
    return credentials(dir, name);
  };
  ca('ca');
  ca('other-ca');
  openssl(['req', '-x509', ...NEW_KEY, '-keyout', 'self.key', '-out', 'self.pem', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], dir);
  return {
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    good: issue('good', 'ca', 'DNS:localhost,IP:127.0.0.1,IP:::1'),
    namesOnly: issue('names-only', 'ca', 'DNS:localhost'),
    expired: issue('expired', 'ca', 'DNS:localhost,IP:127.0.0.1', ['-startdate', '20000101000000Z', '-enddate', '20010101000000Z']),
    untrusted: issue('untrusted', 'other-ca', 'DNS:localhost,IP:127.0.0.1'),
    selfSigned: credentials(dir, 'self'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function credentials(dir: string, name: string): Credentials {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), keyFile, certFile };
}

type TlsOptions = Pick<tls.TlsOptions, 'minVersion' | 'maxVersion'>;

/** A TLS server on 127.0.0.1 whose behaviour per secure connection is `onConnection`. */
export async function tlsPeer(credentials: Credentials, onConnection: (socket: tls.TLSSocket) => void, options: TlsOptions = {}): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: credentials.key, cert: credentials.cert, ...options }, (socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  });
  // Handshakes the component refuses end in errors here: expected, not the test's failure.
  server.on('tlsClientError', () => {});
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  return {
    port,
    host: '127.0.0.1',
    received: [],
    openConnections: () => new Promise((resolve) => server.getConnections((_, n) => resolve(n))),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers each chunk with `echo:` + the chunk, over TLS. */
export const tlsEchoPeer = (credentials: Credentials, options?: TlsOptions) =>
  tlsPeer(credentials, (s) => s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d]))), options);

/** Sends `size` bytes (a repeating pattern) when anything arrives, over TLS. */
export const tlsBulkPeer = (credentials: Credentials, size: number) =>
  tlsPeer(credentials, (s) => s.once('data', () => s.write(Buffer.alloc(size, 'abcdefghijklmnopqrstuvwxyz'))));

/**
 * A mail-style server: greets `220 ready`, answers `STARTTLS` with `220 go ahead` (plus `injected` in the same
 * write, when given), then speaks TLS on the same connection and echoes lines as `echo:LINE`.
 */
export function startTlsPeer(credentials: Credentials, injected = ''): Promise<Peer> {
  return tcpPeer((socket) => {
    socket.write('220 ready\r\n');
    socket.once('data', (d) => {
      if (d.toString() !== 'STARTTLS\r\n') return socket.end('500 expected STARTTLS\r\n');
      socket.write(`220 go ahead\r\n${injected}`, () => {
        const secure = new tls.TLSSocket(socket, { isServer: true, key: credentials.key, cert: credentials.cert });
        secure.on('error', () => {});
        secure.on('data', (line) => secure.write(Buffer.concat([Buffer.from('echo:'), line])));
      });
    });
  });
}

/** Answers the ClientHello with plaintext, as a server on the wrong port would. */
export const plaintextPeer = () => tcpPeer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));

/** A real TLS server from Debian: `redis-server` with only its TLS port, on loopback. */
export async function redisTlsPeer(credentials: Credentials): Promise<Peer> {
  const port = await freePort();
  const child = spawn('redis-server', [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', credentials.certFile, '--tls-key-file', credentials.keyFile,
    '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      log += d;
      if (log.includes('Ready to accept connections')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)));
  });
  return {
    port,
    host: '127.0.0.1',
    received: [],
    openConnections: async () => 0,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Whether Debian's redis-server (built with TLS) is installed. */
export function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
