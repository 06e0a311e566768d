// Runs the README's commands: every curl example (a shell line with `curl` and the `# expected` comment under
// it), through a real shell and curl, against every host (the local host as `npm start` runs it, wasmtime with
// the README's command line and settings) and the `npm run peers` demo peers; and checks that the README's
// `wasmtime serve` lines are the ones the tests, the benchmark and CI launch (scripts/wasmtime.mjs).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROUTES } from '../../src/api/app.js';
import { README_DNS_SERVERS, WASMTIME_VERSIONS, wasmtimeServeCommand } from '../../scripts/wasmtime.mjs';
import { ALL_HOSTS, type RunningHost, suiteName } from '../support/hosts.js';
import { curl, needing, openssl } from '../support/tools.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const run = promisify(execFile);
const wasmtimeSection = readme.slice(readme.indexOf('## Running on wasmtime'), readme.indexOf('## Running on Spin'));

/** Shell lines of `text` that call curl on the local server, and the `# expected` comment under each. */
function curlExamples(text: string) {
  return [...text.matchAll(/^(.*\bcurl\b.*"(http:\/\/127\.0\.0\.1:8081[^"]*)".*)\n# (.*)$/gm)]
    .map((m) => ({ command: m[1]!, url: m[2]!, expected: m[3]! }))
    // Redis is not one of the demo peers.
    .filter((e) => !e.url.includes('port=6379'));
}

const examples = curlExamples(readme);
/** The quick start's own examples: what a newcomer runs first, with nothing set but what the quick start says. */
const quickStartExamples = curlExamples(readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Endpoints')));

/** The demo peers' default ports, as the README shows them. */
const DEMO_PORTS = { http: 8082, echo: 9090, udp: 9091, line: 2525, tls: 9443, starttls: 2587 } as const;
type DemoPeer = keyof typeof DEMO_PORTS;

describe('README: curl examples', () => {
  test('the quick start has examples of its own to try', () => {
    expect(quickStartExamples.length).toBeGreaterThan(0);
  });

  test('every endpoint has an example', () => {
    const shown = new Set(examples.map((e) => new URL(e.url).pathname));
    for (const path of Object.keys(ROUTES)) expect(shown).toContain(path);
  });
});

/** The settings the README says to add on wasmtime to try the quick start (`--env NAME=VALUE`). */
const wasmtimeQuickStartEnv = Object.fromEntries(
  [...wasmtimeSection.matchAll(/`--env ([A-Z_]+)=([^`\s]+)`/g)].map((m) => [m[1]!, m[2]!]),
);

describe('README: wasmtime section', () => {
  const commands = [...wasmtimeSection.matchAll(/^wasmtime serve .*$/gm)].map((m) => m[0]);

  test('its `wasmtime serve` lines are the command the tests, the benchmark and CI run', () => {
    expect(commands).toEqual([
      wasmtimeServeCommand(),
      wasmtimeServeCommand({ nameLookup: false }),
      // Names without lookups: DNS over TCP (test/e2e/dns.test.ts runs this command line against dnsmasq).
      wasmtimeServeCommand({ nameLookup: false, env: { DNS_SERVERS: README_DNS_SERVERS } }),
    ]);
  });

  test('it puts the release CI tests on PATH', () => {
    expect(wasmtimeSection).toContain(`.cache/wasmtime/${WASMTIME_VERSIONS.newest}/wasmtime_cli`);
  });

  test('it names the settings that open loopback for the quick start', () => {
    expect(wasmtimeQuickStartEnv).toEqual({ ALLOWED_TARGETS: '127.0.0.0/8:*' });
  });
});

for (const kind of ALL_HOSTS.map((host) => needing(host, curl, openssl))) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('README quick start, on ', kind), () => {
    let peers: ChildProcess;
    let host: RunningHost;
    // Started as the quick start says and nothing more (no TLS CA): its examples must work there.
    let quickStartHost: RunningHost;
    const ports: Record<DemoPeer, number> = { http: 0, echo: 0, udp: 0, line: 0, tls: 0, starttls: 0 };
    // The demo peers' CA, made at their start, where the README's TLS examples trust it. Made when the suite
    // runs, not when it is collected: a skipped suite runs no afterAll to remove it.
    let pkiDir = '';
    const localize = (text: string, url = host.url) =>
      Object.entries(DEMO_PORTS).reduce(
        (t, [name, port]) =>
          t
            .replaceAll(`port=${port}`, `port=${ports[name as DemoPeer]}`)
            .replaceAll(`:${port}`, `:${ports[name as DemoPeer]}`)
            .replaceAll(`"port": ${port}`, `"port": ${ports[name as DemoPeer]}`),
        text.replaceAll('http://127.0.0.1:8081', url),
      );

    beforeAll(async () => {
      pkiDir = mkdtempSync(join(tmpdir(), 'readme-pki-'));
      peers = spawn(process.execPath, ['scripts/demo-peers.mjs'], { cwd: root, env: { ...process.env, PEER_HTTP_PORT: '0', PEER_ECHO_PORT: '0', PEER_UDP_PORT: '0', PEER_LINE_PORT: '0', PEER_TLS_PORT: '0', PEER_STARTTLS_PORT: '0', PEER_PKI_DIR: pkiDir } });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        peers.stdout!.on('data', (d) => {
          out += d;
          for (const name of Object.keys(DEMO_PORTS) as DemoPeer[]) {
            const found = new RegExp(`${name} peer on 127\\.0\\.0\\.1:(\\d+)`).exec(out);
            if (found) ports[name] = Number(found[1]);
          }
          if (Object.values(ports).every((p) => p !== 0)) resolve();
        });
        peers.once('exit', (code) => reject(new Error(`demo peers exited with ${code}`)));
      });
      // `npm start` opens loopback itself; elsewhere the README says which setting to add.
      // The README's TLS section starts the server with TLS_CA_CERTS="$(cat .cache/demo-pki/ca.pem)".
      const tlsCa = { TLS_CA_CERTS: readFileSync(join(pkiDir, 'ca.pem'), 'utf8') };
      const quickStartEnv = kind.name.startsWith('local') ? {} : wasmtimeQuickStartEnv;
      [host, quickStartHost] = await Promise.all([kind.start({ ...quickStartEnv, ...tlsCa }), kind.start(quickStartEnv)]);
    });

    afterAll(async () => {
      await Promise.all([host?.close(), quickStartHost?.close()]);
      peers?.kill();
      if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
    });

    /** Runs a README command line against `url` and checks it prints each part of `expected`. */
    async function expectPrints(command: string, expected: string, url: string): Promise<void> {
      const { stdout } = await run('sh', ['-c', localize(command, url)], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
      for (const part of expected.split(' ... ')) expect(stdout).toContain(localize(part, url));
    }

    test.each(examples)('$command prints "$expected"', ({ command, expected }) => expectPrints(command, expected, host.url));

    test.each(quickStartExamples)('after only the quick start\'s steps, $command prints "$expected"', ({ command, expected }) =>
      expectPrints(command, expected, quickStartHost.url),
    );
  });
}
