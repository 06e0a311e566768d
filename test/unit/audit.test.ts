// The audit log through the app: which requests leave a line, every field of it, and that the log never
// carries a token or content and never fails a request.

import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { AuditRecord, type AuditLine } from '../../src/api/audit.js';
import { SocketFault } from '../../src/net/faults.js';
import type { IpAddress } from '../../src/net/ip.js';
import type { Reply } from '../../src/net/dialogue.js';
import { TlsFault } from '../../src/net/tls/faults.js';
import { Config, type Environment } from '../../src/settings/config.js';
import { type FakeReply, fakeNetwork, reply, v4 } from '../support/fake-network.js';

const TOKEN = 'audit-token-0123456789abcdef';
const FINGERPRINT = `sha256:${createHash('sha256').update(TOKEN).digest('hex').slice(0, 16)}`;
const auth = { authorization: `Bearer ${TOKEN}` };

function appWith(
  env: Environment,
  options: { names?: Record<string, IpAddress[] | SocketFault>; peers?: Record<string, FakeReply | SocketFault | ((m: string) => FakeReply)> } = {},
  writeAuditLine?: (line: string) => void,
) {
  const written: string[] = [];
  const fake = fakeNetwork(options);
  const config = new Config({ ALLOWED_TARGETS: '127.0.0.0/8:*,192.0.2.0/24:*', AUTH_TOKEN: TOKEN, ...env });
  const app = createApp({ config: () => config, network: fake.network, writeAuditLine: writeAuditLine ?? ((line) => written.push(line)) });
  const call = async (path: string, init: RequestInit = {}) => {
    const response = await app(new Request(`http://component.local${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } }));
    return { status: response.status, text: await response.text() };
  };
  const lines = () => written.map((line) => JSON.parse(line) as AuditLine);
  return { ...fake, call, written, lines };
}

const mcpCall = (args: unknown, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'tcp_exchange', arguments: args } });
const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('the audit log: one line per request that connects, tries to, or is refused', () => {
  test('GET /tcp/send: every field, in order, and nothing of the message or the reply', async () => {
    const { call, lines, written } = appWith({}, { peers: { '127.0.0.1:7': reply('secret reply') } });
    expect((await call('/tcp/send?host=127.0.0.1&port=7&msg=secret%20message')).status).toBe(200);
    const [line] = lines();
    expect(Object.keys(line!)).toEqual(['time', 'route', 'method', 'caller', 'target', 'tried', 'connected', 'sent', 'received', 'end', 'status', 'ms']);
    expect(line).toMatchObject({ route: '/tcp/send', method: 'GET', caller: FINGERPRINT, target: '127.0.0.1:7', tried: ['127.0.0.1:7'], connected: '127.0.0.1:7', sent: 14, received: 12, end: 'closed', status: 200 });
    expect(Date.parse(line!.time)).not.toBeNaN();
    expect(line!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line!.ms).toBeGreaterThanOrEqual(0);
    expect(written).toHaveLength(1);
    expect(written[0]).not.toMatch(/secret|audit-token/);
  });

  test('every address tried is listed, and the one connected', async () => {
    const { call, lines } = appWith({}, { names: { 'multi.test': [v4(192, 0, 2, 1), v4(192, 0, 2, 2)] }, peers: { '192.0.2.2:80': reply('ok') } });
    expect((await call('/?host=multi.test')).status).toBe(200);
    expect(lines()[0]).toMatchObject({ route: '/', target: 'multi.test:80', tried: ['192.0.2.1:80', '192.0.2.2:80'], connected: '192.0.2.2:80' });
  });

  test('POST /tcp/exchange: the bytes of every step, and how the last read ended', async () => {
    const { call, lines } = appWith({}, { peers: { '127.0.0.1:7': (m) => reply(`re:${m}`, 'idle') } });
    const r = await call('/tcp/exchange', post({ host: '127.0.0.1', port: 7, steps: [{ send: { text: 'ab' } }, { send: { text: 'cde' } }] }));
    expect(r.status).toBe(200);
    expect(lines()).toEqual([expect.objectContaining({ route: '/tcp/exchange', method: 'POST', target: '127.0.0.1:7', sent: 5, received: 11, end: 'idle', status: 200 })]);
  });

  test('POST /mcp tools/call: a line for the tool call, with the tool error code; a tools/list leaves none', async () => {
    const { call, lines } = appWith({}, { peers: { '127.0.0.1:7': reply('ok') } });
    await call('/mcp', post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(lines()).toEqual([]);
    await call('/mcp', post(mcpCall({ host: '127.0.0.1', port: 7, steps: [{}] })));
    await call('/mcp', post(mcpCall({ host: '169.254.169.254', port: 80, steps: [{}] })));
    expect(lines()).toEqual([
      expect.objectContaining({ route: '/mcp', target: '127.0.0.1:7', connected: '127.0.0.1:7', status: 200 }),
      expect.objectContaining({ route: '/mcp', target: '169.254.169.254:80', tried: [], status: 200, code: 'destination-denied' }),
    ]);
    expect(lines()[0]).not.toHaveProperty('code');
  });

  test('a 2025-03-26 batch of two tool calls leaves a line for each', async () => {
    const { call, lines } = appWith({}, { peers: { '127.0.0.1:7': reply('a'), '127.0.0.1:8': reply('b') } });
    await call('/mcp', post([mcpCall({ host: '127.0.0.1', port: 7, steps: [{}] }, 1), mcpCall({ host: '127.0.0.1', port: 8, steps: [{}] }, 2)]));
    expect(lines().map((l) => l.connected)).toEqual(['127.0.0.1:7', '127.0.0.1:8']);
  });

  test('refused by the policy: 403, the target asked, nothing tried', async () => {
    const { call, lines, calls } = appWith({}, {});
    expect((await call('/tcp/send?host=10.0.0.1&port=6379')).status).toBe(403);
    expect(calls).toEqual([]);
    expect(lines()).toEqual([expect.objectContaining({ target: '10.0.0.1:6379', tried: [], status: 403, code: 'destination-denied' })]);
    expect(lines()[0]).not.toHaveProperty('connected');
  });

  test.each([
    ['no token', {}, 'anonymous'],
    ['a wrong token', { authorization: 'Bearer wrong-token-0123456789' }, `sha256:${createHash('sha256').update('wrong-token-0123456789').digest('hex').slice(0, 16)}`],
  ])('refused by authentication (%s), on any path: 401, the caller named by the token presented, never the token', async (_, headers, caller) => {
    const written: string[] = [];
    const app = createApp({ config: () => new Config({ AUTH_TOKEN: TOKEN }), network: fakeNetwork({}).network, writeAuditLine: (line) => written.push(line) });
    for (const path of ['/tcp/send?host=127.0.0.1&port=7', '/openapi.json']) expect((await app(new Request(`http://component.local${path}`, { headers }))).status).toBe(401);
    expect(written.map((l) => JSON.parse(l) as AuditLine)).toEqual([
      expect.objectContaining({ route: '/tcp/send', caller, target: '127.0.0.1:7', status: 401, code: 'unauthorized' }),
      expect.objectContaining({ route: '/openapi.json', caller, status: 401, code: 'unauthorized' }),
    ]);
    expect(written.join('\n')).not.toContain('wrong-token');
  });

  test('a request refused before it dials is recorded with the target as asked and the code', async () => {
    const { call, lines } = appWith({}, {});
    expect((await call('/tcp/send?host=bad%20host&port=7')).status).toBe(400);
    expect(lines()).toEqual([expect.objectContaining({ target: 'bad host:7', status: 400, code: 'invalid-host' })]);
  });

  test('an error answered to a page at an allowed origin (with CORS headers) keeps its code', async () => {
    const { call, lines } = appWith({ ALLOWED_ORIGINS: 'https://app.example' });
    const r = await call('/tcp/send?host=bad%20host&port=7', { headers: { origin: 'https://app.example' } });
    expect(r.status).toBe(400);
    expect(lines()).toEqual([wholeLine({ route: '/tcp/send', method: 'GET', target: 'bad host:7', status: 400, code: 'invalid-host' })]);
  });

  test('a request that fails half-way still leaves its line: connected, what was sent, the fault\'s code', async () => {
    const { call, lines } = appWith({}, { peers: { '127.0.0.1:7': new SocketFault('read', 'connection-reset') } });
    expect((await call('/tcp/send?host=127.0.0.1&port=7&msg=abc')).status).toBe(502);
    expect(lines()).toEqual([expect.objectContaining({ connected: '127.0.0.1:7', sent: 3, received: 0, status: 502, code: 'connection-reset' })]);
  });

  /** The whole line, so that a test pins every member and its order: only the time and the duration vary. */
  const wholeLine = (members: Omit<AuditLine, 'time' | 'ms' | 'method' | 'caller'> & { method?: string }) => ({
    time: expect.any(String),
    method: 'POST',
    caller: FINGERPRINT,
    ...members,
    ms: expect.any(Number),
  });

  test('a TLS failure after connecting: connected, the bytes before the upgrade, the TLS code, and no TLS version', async () => {
    const greeting = reply('250 STARTTLS\r\n', 'until');
    const expired = Object.assign(new TlsFault({ kind: 'certificate', problem: { tag: 'expired' } }), { replies: [greeting] });
    const peer = (m: string) => {
      if (m === 'STARTTLS\r\n') return greeting;
      throw expired;
    };
    const { call, lines } = appWith({}, { peers: { '127.0.0.1:25': peer } });
    const steps = [{ send: { text: 'STARTTLS\r\n' }, until: { text: '\r\n' } }, { starttls: true, send: { text: 'EHLO me\r\n' }, until: { text: '\r\n' } }];
    expect((await call('/tcp/exchange', post({ host: '127.0.0.1', port: 25, steps }))).status).toBe(502);
    const line = lines()[0]!;
    expect(Object.keys(line)).toEqual(['time', 'route', 'method', 'caller', 'target', 'tried', 'connected', 'sent', 'received', 'end', 'status', 'code', 'ms']);
    expect(line).toEqual(
      wholeLine({ route: '/tcp/exchange', target: '127.0.0.1:25', tried: ['127.0.0.1:25'], connected: '127.0.0.1:25', sent: 10, received: 14, end: 'until', status: 502, code: 'tls-certificate-invalid' }),
    );
  });

  test('a read fault after a send in a later step: every send written counts, the replies before it, the last read end before it', async () => {
    const peer = (m: string): Reply => {
      if (m === 'one') return reply('first', 'idle');
      throw new SocketFault('read', 'deadline');
    };
    const { call, lines } = appWith({}, { peers: { '127.0.0.1:7': peer } });
    expect((await call('/tcp/exchange', post({ host: '127.0.0.1', port: 7, steps: [{ send: { text: 'one' } }, { send: { text: 'three' } }] }))).status).toBe(504);
    expect(lines()).toEqual([
      wholeLine({ route: '/tcp/exchange', target: '127.0.0.1:7', tried: ['127.0.0.1:7'], connected: '127.0.0.1:7', sent: 8, received: 5, end: 'idle', status: 504, code: 'read-timeout' }),
    ]);
  });

  test('a write fault: connected, the send that failed not counted, no read end', async () => {
    const { call, lines } = appWith({}, { peers: { '127.0.0.1:7': new SocketFault('write', 'connection-reset') } });
    expect((await call('/tcp/send?host=127.0.0.1&port=7&msg=abc')).status).toBe(502);
    expect(lines()).toEqual([
      wholeLine({ route: '/tcp/send', method: 'GET', target: '127.0.0.1:7', tried: ['127.0.0.1:7'], connected: '127.0.0.1:7', sent: 0, received: 0, status: 502, code: 'connection-reset' }),
    ]);
  });

  test('a fault after TLS began: connected and the bytes, with TLS fields only for a dialogue that completed', async () => {
    const tlsReply: Reply = { ...reply('+PONG\r\n', 'until'), tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } };
    const peer = (m: string): Reply => {
      if (m === 'PING\r\n') return tlsReply;
      throw new SocketFault('read', 'connection-reset');
    };
    const { call, lines } = appWith({}, { peers: { '127.0.0.1:6380': peer } });
    const steps = [{ send: { text: 'PING\r\n' }, until: { text: '\r\n' } }, { send: { text: 'GET k\r\n' }, until: { text: '\r\n' } }];
    expect((await call('/tcp/exchange', post({ host: '127.0.0.1', port: 6380, tls: true, steps }))).status).toBe(502);
    expect(lines()).toEqual([
      wholeLine({ route: '/tcp/exchange', target: '127.0.0.1:6380', tried: ['127.0.0.1:6380'], connected: '127.0.0.1:6380', sent: 13, received: 7, end: 'until', status: 502, code: 'connection-reset' }),
    ]);
  });

  test('every address refused: each tried, none connected, no bytes, the last refusal\'s code', async () => {
    const { call, lines } = appWith({}, { names: { 'multi.test': [v4(192, 0, 2, 1), v4(192, 0, 2, 2)] } });
    expect((await call('/?host=multi.test')).status).toBe(502);
    expect(lines()).toEqual([wholeLine({ route: '/', method: 'GET', target: 'multi.test:80', tried: ['192.0.2.1:80', '192.0.2.2:80'], status: 502, code: 'connection-refused' })]);
  });

  test('a name that does not resolve: the target, nothing tried, the lookup\'s code', async () => {
    const { call, lines } = appWith({}, {});
    expect((await call('/?host=nowhere.test')).status).toBe(502);
    expect(lines()).toEqual([wholeLine({ route: '/', method: 'GET', target: 'nowhere.test:80', tried: [], status: 502, code: 'name-unresolvable' })]);
  });

  test('requests that neither connect nor are refused leave no line', async () => {
    const { call, lines } = appWith({}, {});
    for (const path of ['/health', '/ready', '/openapi.json']) expect((await call(path)).status).toBe(200);
    expect(lines()).toEqual([]);
  });

  test.each(['off', 'OFF', ' off '])('AUDIT_LOG=%j turns it off', async (value) => {
    const { call, written } = appWith({ AUDIT_LOG: value }, { peers: { '127.0.0.1:7': reply('x') } });
    expect((await call('/tcp/send?host=127.0.0.1&port=7')).status).toBe(200);
    expect(written).toEqual([]);
  });

  test.each(['on', '', 'On'])('AUDIT_LOG=%j keeps it on', async (value) => {
    const { call, written } = appWith({ AUDIT_LOG: value }, { peers: { '127.0.0.1:7': reply('x') } });
    await call('/tcp/send?host=127.0.0.1&port=7');
    expect(written).toHaveLength(1);
  });

  test('a malformed AUDIT_LOG is 503 config-invalid naming it, for every request but the probes; the refusal is recorded', async () => {
    const { call, lines, calls } = appWith({ AUDIT_LOG: 'yes' }, { peers: { '127.0.0.1:7': reply('x') } });
    const r = await call('/tcp/send?host=127.0.0.1&port=7');
    expect(r.status).toBe(503);
    expect(r.text).toContain('AUDIT_LOG');
    expect(calls).toEqual([]);
    expect(lines()).toEqual([expect.objectContaining({ status: 503, code: 'config-invalid' })]);
    expect((await call('/health')).status).toBe(200);
    const ready = await call('/ready');
    expect([ready.status, ready.text.includes('AUDIT_LOG')]).toEqual([503, true]);
  });

  test('a log that cannot be written never fails the request', async () => {
    const { call } = appWith({}, { peers: { '127.0.0.1:7': reply('pong') } }, () => {
      throw new Error('stderr is closed');
    });
    const r = await call('/tcp/send?host=127.0.0.1&port=7');
    expect([r.status, r.text]).toEqual([200, 'pong']);
  });

  test('where TLS is used, the version and server name follow the address connected (from the transcript of the dialogue)', () => {
    const record = new AuditRecord();
    const tls = { version: 'TLSv1.3', serverName: 'example.com' };
    record.dialled({ target: 'example.com:443', tried: ['192.0.2.1:443'], connection: { address: '192.0.2.1:443', sent: 10, received: 20, ends: ['until', 'closed'], tls } });
    const [line] = record.lines({ time: 't', route: '/tcp/send', method: 'GET', caller: 'anonymous', status: 200, code: undefined, ms: 1, asked: undefined });
    expect(Object.keys(line!)).toEqual(['time', 'route', 'method', 'caller', 'target', 'tried', 'connected', 'tls_version', 'server_name', 'sent', 'received', 'end', 'status', 'ms']);
    expect(line).toMatchObject({ tls_version: 'TLSv1.3', server_name: 'example.com', end: 'closed' });
  });

  test('a target as asked is bounded: a line stays short whatever the caller sends', async () => {
    const { call, written } = appWith({}, {});
    await call(`/tcp/send?host=${'a'.repeat(5000)}&port=7`);
    expect(written[0]!.length).toBeLessThan(1000);
  });
});
