// The audit log through the built component on each host: the lines it writes to stderr, read from the one
// place each host passes them on (the local host's stderr unchanged, wasmtime's stderr behind its
// `stderr [N] :: ` prefix, Spin's stderr with its log files off), one per request that connects or is refused,
// every field checked.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AuditLine } from '../../src/api/audit.js';
import { get } from '../support/http.js';
import { ALL_HOSTS, type RunningHost, suiteName } from '../support/hosts.js';
import { type Peer, echoAndClosePeer, eventually } from '../support/peers.js';

const TOKEN = 'audit-e2e-token-0123456789abcdef';
const FINGERPRINT = `sha256:${createHash('sha256').update(TOKEN).digest('hex').slice(0, 16)}`;
const auth = { authorization: `Bearer ${TOKEN}` };

/** The audit lines a host has written so far: JSON lines beginning with the time, whatever the host put before them. */
function auditLines(host: RunningHost): AuditLine[] {
  return host
    .log()
    .split('\n')
    .map((line) => line.replace(/^stderr \[\d+\] :: /, '').trim())
    .filter((line) => line.startsWith('{"time":'))
    .map((line) => JSON.parse(line) as AuditLine);
}

for (const kind of ALL_HOSTS) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('the audit log, on ', kind), () => {
    let echo: Peer;
    let host: RunningHost;
    let quiet: RunningHost;

    beforeAll(async () => {
      echo = await echoAndClosePeer();
      const env = { AUTH_TOKEN: TOKEN, ALLOWED_TARGETS: `127.0.0.1:${echo.port}` };
      [host, quiet] = await Promise.all([kind.start(env), kind.start({ ...env, AUDIT_LOG: 'off' })]);
    });

    afterAll(async () => {
      await Promise.all([host?.close(), quiet?.close()]);
      await echo?.close();
    });

    /** Sends one request and returns the one new audit line it left (waiting until the host has passed it on). */
    async function lineFor(path: string, init: RequestInit = {}): Promise<{ status: number; line: AuditLine }> {
      const before = auditLines(host).length;
      const r = await get(host.url, path, init);
      expect(await eventually(async () => auditLines(host).length > before, 10_000), `no audit line for ${path}:\n${host.log()}`).toBe(true);
      const added = auditLines(host).slice(before);
      expect(added, JSON.stringify(added)).toHaveLength(1);
      return { status: r.status, line: added[0]! };
    }

    test('GET /tcp/send: every field, and no content of the message or the reply', async () => {
      const { status, line } = await lineFor(`/tcp/send?host=127.0.0.1&port=${echo.port}&msg=hush`, { headers: auth });
      expect(status).toBe(200);
      expect(Object.keys(line)).toEqual(['time', 'route', 'method', 'caller', 'target', 'tried', 'connected', 'sent', 'received', 'end', 'status', 'ms']);
      const address = `127.0.0.1:${echo.port}`;
      expect(line).toMatchObject({ route: '/tcp/send', method: 'GET', caller: FINGERPRINT, target: address, tried: [address], connected: address, sent: 4, received: 9, end: 'closed', status: 200 });
      expect(Math.abs(Date.parse(line.time) - Date.now())).toBeLessThan(120_000);
      expect(line.ms).toBeGreaterThan(0);
      expect(JSON.stringify(line)).not.toMatch(/hush|audit-e2e-token/);
    });

    test('POST /tcp/exchange and GET /: a line each, with their route and bytes', async () => {
      const exchange = await lineFor('/tcp/exchange', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ host: '127.0.0.1', port: echo.port, steps: [{ send: { text: 'abc' } }] }),
      });
      expect(exchange.line).toMatchObject({ route: '/tcp/exchange', method: 'POST', sent: 3, received: 8, end: 'closed', status: 200 });
      const root = await lineFor(`/?host=127.0.0.1&port=${echo.port}`, { headers: auth });
      expect(root.line).toMatchObject({ route: '/', target: `127.0.0.1:${echo.port}`, connected: `127.0.0.1:${echo.port}`, status: 200 });
    });

    test('POST /mcp tools/call: a line for the tool call, with the tool error code when it fails', async () => {
      const call = (port: number) =>
        lineFor('/mcp', {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'tcp_exchange', arguments: { host: '127.0.0.1', port, steps: [{ send: { text: 'x' } }] } } }),
        });
      expect((await call(echo.port)).line).toMatchObject({ route: '/mcp', connected: `127.0.0.1:${echo.port}`, status: 200 });
      expect((await call(1)).line).toMatchObject({ route: '/mcp', target: '127.0.0.1:1', tried: [], status: 200, code: 'destination-denied' });
    });

    test('refused by the policy and by authentication: a line each, the caller anonymous without a token', async () => {
      const denied = await lineFor('/tcp/send?host=169.254.169.254&port=80', { headers: auth });
      expect(denied.line).toMatchObject({ caller: FINGERPRINT, target: '169.254.169.254:80', tried: [], status: 403, code: 'destination-denied' });
      const anonymous = await lineFor(`/tcp/send?host=127.0.0.1&port=${echo.port}`);
      expect(anonymous.line).toMatchObject({ caller: 'anonymous', status: 401, code: 'unauthorized' });
    });

    test('AUDIT_LOG=off: the request is answered and nothing is written', async () => {
      const r = await get(quiet.url, `/tcp/send?host=127.0.0.1&port=${echo.port}&msg=x`, { headers: auth });
      expect(r.status).toBe(200);
      // The request with the line is answered after the line is written, so none can still be on its way.
      expect(auditLines(quiet)).toEqual([]);
    });
  });
}
