// An OpenAPI-driven fuzzer, schemathesis (PyPI), against GET /openapi.json of the built component on the local
// host and on wasmtime: every request the document calls valid is accepted, every one it calls invalid is refused,
// every answer matches the document, and no 5xx but the documented 502/504 of an unreachable peer or name.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { type RunningHost, localHost, selectHosts, suiteName, wasmtimeHost } from '../support/hosts.js';
import { type Peer, echoPeer } from '../support/peers.js';
import { needing, schemathesis } from '../support/tools.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'fuzz-token-0123456789abcdef';
/** Test cases per operation and phase; a fixed seed, so a finding is reproducible with the command it prints. */
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 100);
const SEED = process.env.FUZZ_SEED ?? '20261130';

/** Where schemathesis keeps its caches (.schemathesis/, .hypothesis/ in its working directory): out of the work tree. */
const WORK_DIR = `${root}.cache/schemathesis-run`;

/** Runs schemathesis to its end; its exit code and everything it printed. */
function runSchemathesis(args: string[]): Promise<{ code: number | null; output: string }> {
  mkdirSync(WORK_DIR, { recursive: true });
  return new Promise((resolve) => {
    const child = spawn(schemathesis.path!, args, { cwd: WORK_DIR, env: { ...process.env, NO_COLOR: '1', PYTHONIOENCODING: 'utf-8' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

for (const kind of selectHosts([localHost, wasmtimeHost]).map((host) => needing(host, schemathesis))) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('OpenAPI fuzzing, on ', kind), () => {
    let echo: Peer;
    let dns: DnsServer;
    let host: RunningHost;

    beforeAll(async () => {
      // The only reachable destination is one echo peer; names are asked of a DNS server that knows none
      // (NXDOMAIN), so fuzzed targets end denied (403), unresolvable (502) or refused — never on a real service.
      [echo, dns] = await Promise.all([echoPeer(), startDnsServer({})]);
      host = await kind.start({
        AUTH_TOKEN: TOKEN,
        ALLOWED_TARGETS: `127.0.0.1:${echo.port}`,
        DNS_MODE: 'tcp',
        DNS_SERVERS: dns.server,
        REQUEST_DEADLINE_MS: '2000',
        CONNECT_TIMEOUT_MS: '1000',
        REPLY_IDLE_MS: '50',
      });
    });

    afterAll(async () => {
      await host?.close();
      await Promise.all([echo?.close(), dns?.close()]);
    });

    test('schemathesis finds nothing: every check, positive and negative cases', { timeout: 900_000 }, async () => {
      const { code, output } = await runSchemathesis([
        '--config-file',
        `${root}test/fuzz/schemathesis.toml`,
        'run',
        `${host.url}/openapi.json`,
        '--header',
        `Authorization: Bearer ${TOKEN}`,
        '--checks',
        'all',
        '--max-examples',
        String(MAX_EXAMPLES),
        '--seed',
        SEED,
        '--workers',
        '1',
        '--no-color',
        '--request-timeout',
        '10',
      ]);
      const summary = /Test cases:\s*\n?\s*(.*)/.exec(output)?.[1] ?? 'no summary';
      console.log(`schemathesis on ${kind.name}: ${summary}`);
      expect(code, output).toBe(0);
    });
  });
}
