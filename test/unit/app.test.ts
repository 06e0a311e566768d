import { describe, expect, test } from 'vitest';
import packageJson from '../../package.json';
import { createApp } from '../../src/api/app.js';
import { Config, type Environment } from '../../src/settings/config.js';
import { SocketFault } from '../../src/net/faults.js';
import type { IpAddress } from '../../src/net/ip.js';
import type { Reply } from '../../src/net/dialogue.js';
import { fakeNetwork, reply, v4, virtualClock, type VirtualClock } from '../support/fake-network.js';

const LOCAL_PROFILE = '127.0.0.0/8:*,10.0.0.0/8:*,[::1]:*,0.0.0.0/0:*,[::/0]:*';

function appWith(
  env: Environment,
  options: { names?: Record<string, IpAddress[] | SocketFault>; peers?: Record<string, Reply | SocketFault | ((m: string) => Reply)>; clock?: VirtualClock } = {},
) {
  const fake = fakeNetwork(options);
  // Unit tests of routing use loopback and private addresses: allow them, as the local profile does.
  const config = new Config({ ALLOWED_TARGETS: LOCAL_PROFILE, ...env });
  const app = createApp({ config: () => config, network: fake.network });
  const call = async (path: string, init?: RequestInit) => {
    const response = await app(new Request(`http://component.local${path}`, init));
    const text = await response.text();
    const code = response.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as { error?: { code: string } }).error?.code : undefined;
    return { status: response.status, text, code, headers: response.headers };
  };
  return { ...fake, call };
}

describe('routes', () => {
  const { call } = appWith({}, { peers: { '127.0.0.1:7': reply('pong') } });
  test.each([
    ['GET', '/health', 200, undefined],
    ['GET', '/tcp/send?host=127.0.0.1&port=7&msg=ping', 200, undefined],
    ['POST', '/health', 405, 'method-not-allowed'],
    ['HEAD', '/tcp/send', 405, 'method-not-allowed'],
    ['DELETE', '/', 405, 'method-not-allowed'],
    ['GET', '/health/', 404, 'not-found'],
    ['GET', '/tcp', 404, 'not-found'],
    ['GET', '/constructor', 404, 'not-found'],
    ['GET', '/__proto__', 404, 'not-found'],
    ['GET', '//evil.example/health', 404, 'not-found'],
  ])('%s %s → %i', async (method, path, status, code) => {
    const r = await call(path, { method });
    expect(r.status).toBe(status);
    expect(r.code).toBe(code);
  });
});

describe('GET /', () => {
  test('sends a well-formed HTTP/1.1 GET to the default target', async () => {
    const { call, calls, lookups } = appWith({}, { names: { 'example.com': [v4(93, 184, 215, 14)] }, peers: { '93.184.215.14:80': reply('HTTP/1.1 200 OK\r\n\r\nhi') } });
    const r = await call('/');
    expect(r.status).toBe(200);
    expect(r.text).toBe('HTTP/1.1 200 OK\r\n\r\nhi');
    expect(lookups).toEqual(['example.com']);
    expect(calls[0]!.message).toBe(`GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: ai-agent-sockets/${packageJson.version}\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
  });

  test('?host=&port= override the target, and the Host header carries a non-default port', async () => {
    const { call, calls } = appWith({}, { peers: { '127.0.0.1:8082': reply('x') } });
    expect((await call('/?host=127.0.0.1&port=8082')).status).toBe(200);
    expect(calls[0]!.message).toContain('Host: 127.0.0.1:8082\r\n');
  });

  test('IPv6 targets appear bracketed in the Host header', async () => {
    const { call, calls } = appWith({}, { peers: { '[::1]:8080': reply('x') } });
    expect((await call('/?host=[::1]&port=8080')).status).toBe(200);
    expect(calls[0]!.message).toContain('Host: [::1]:8080\r\n');
  });

  test('the default target comes from DEFAULT_TARGET_HOST and DEFAULT_TARGET_PORT', async () => {
    const { call, calls } = appWith({ DEFAULT_TARGET_HOST: '10.0.0.9', DEFAULT_TARGET_PORT: '8080' }, { peers: { '10.0.0.9:8080': reply('x') } });
    expect((await call('/')).status).toBe(200);
    expect(calls[0]!.to).toBe('10.0.0.9:8080');
  });

  test('when the host refuses lookups, the configured fallback addresses are used', async () => {
    const { call, calls } = appWith(
      { DEFAULT_TARGET_FALLBACK_IPS: '192.0.2.1,192.0.2.2' },
      { names: { 'example.com': new SocketFault('resolve', 'permanent-resolver-failure') }, peers: { '192.0.2.2:80': reply('second') } },
    );
    const r = await call('/');
    expect(r.text).toBe('second');
    expect(calls.map((c) => c.to)).toEqual(['192.0.2.1:80', '192.0.2.2:80']);
  });

  test('fallbacks do not apply to other names: a refused lookup is a 502 lookup-refused', async () => {
    const { call } = appWith({}, { names: { 'other.example': new SocketFault('resolve', 'permanent-resolver-failure') } });
    const r = await call('/?host=other.example');
    expect(r.status).toBe(502);
    expect(r.code).toBe('lookup-refused');
  });

  test('a malformed DEFAULT_TARGET_PORT fails requests for the default target only', async () => {
    const { call } = appWith({ DEFAULT_TARGET_PORT: 'abc' }, { peers: { '127.0.0.1:80': reply('x') } });
    const r = await call('/');
    expect(r.status).toBe(503);
    expect(r.code).toBe('config-invalid');
    expect(r.text).toContain('DEFAULT_TARGET_PORT');
    expect((await call('/?host=127.0.0.1&port=80')).status).toBe(200);
    expect((await call('/health')).status).toBe(200);
  });

  test.each(['127.0.0.1%0D%0AX-Injected:%20yes', 'a%0Ab', 'a%00b', 'a%20b', 'a%09b'])('host=%s is rejected before anything is sent', async (host) => {
    const { call, calls } = appWith({});
    const r = await call(`/?host=${host}&port=80`);
    expect(r.status).toBe(400);
    expect(r.code).toBe('invalid-host');
    expect(calls).toEqual([]);
  });
});

describe('GET /tcp/send', () => {
  test('sends msg decoded as UTF-8 and returns the reply bytes', async () => {
    const { call, calls } = appWith({}, { peers: { '127.0.0.1:9': (m) => reply(`echo:${m}`, 'idle') } });
    const r = await call('/tcp/send?host=127.0.0.1&port=9&msg=hello%20wasi%20%C3%A9');
    expect(r.text).toBe('echo:hello wasi é');
    expect(r.headers.get('x-reply-end')).toBe('idle');
    expect(calls[0]!.message).toBe('hello wasi é');
  });

  test('passes the configured limits to the socket module', async () => {
    const { call, calls } = appWith({ CONNECT_TIMEOUT_MS: '111', REPLY_IDLE_MS: '22', MAX_REPLY_BYTES: '333' }, { peers: { '127.0.0.1:9': reply('') } });
    await call('/tcp/send?host=127.0.0.1&port=9');
    expect(calls[0]!.limits).toMatchObject({ connectTimeoutMs: 111, maxReplyBytes: 333 });
    expect(calls[0]!.steps[0]!.read).toEqual({ idleMs: 22 });
    expect(calls[0]!.limits.deadlineMs).toBe(30_000);
  });

  test.each([
    ['until=%0D%0A', { until: new Uint8Array([13, 10]) }],
    ['until=%00%FF', { until: new Uint8Array([0, 255]) }],
    ['bytes=4', { bytes: 4 }],
    ['bytes=1048576', { bytes: 1_048_576 }],
    ['idle_ms=5', { idleMs: 5 }],
    ['idle_ms=200', { idleMs: 200 }],
    ['', { idleMs: 200 }],
  ])('%s ends the read as asked', async (params, read) => {
    const { call, calls } = appWith({}, { peers: { '127.0.0.1:9': reply('x') } });
    expect((await call(`/tcp/send?host=127.0.0.1&port=9&${params}`)).status).toBe(200);
    expect(calls[0]!.steps[0]!.read).toEqual(read);
  });

  test('timeout_ms shortens the deadline', async () => {
    const { call, calls } = appWith({}, { peers: { '127.0.0.1:9': reply('x') } });
    await call('/tcp/send?host=127.0.0.1&port=9&timeout_ms=50');
    expect(calls[0]!.limits.deadlineMs).toBe(50);
  });

  test.each([
    ['until=', 'until is 0 characters'],
    [`until=${'x'.repeat(257)}`, 'until is 257 characters'],
    [`until=${'%FF'.repeat(257)}`, 'until is 257 characters'],
    ['bytes=0', 'is not a whole number'],
    ['bytes=1048577', "the server's MAX_REPLY_BYTES"],
    ['bytes=-1', 'not a whole number'],
    ['bytes=1e3', 'not a whole number'],
    ['idle_ms=201', 'from 1 to 200'],
    ['timeout_ms=30001', 'from 1 to 30000'],
    ['until=%zz', 'invalid percent-encoding'],
  ])('%s is a 400 naming the problem, and nothing is sent', async (params, message) => {
    const { call, calls } = appWith({}, { peers: { '127.0.0.1:9': reply('x') } });
    const r = await call(`/tcp/send?host=127.0.0.1&port=9&${params}`);
    expect(r.status).toBe(400);
    expect(r.text).toContain(message);
    expect(calls).toEqual([]);
  });

  test('until is 1 to 256 characters once decoded: 256 four-byte characters (1024 bytes) are taken', async () => {
    const { call, calls } = appWith({}, { peers: { '127.0.0.1:9': reply('x') } });
    const r = await call(`/tcp/send?host=127.0.0.1&port=9&until=${encodeURIComponent('\u{1F600}'.repeat(256))}`);
    expect(r.status).toBe(200);
    expect(calls[0]!.steps[0]!.read).toEqual({ until: new TextEncoder().encode('\u{1F600}'.repeat(256)) });
  });

  test.each<[string, object]>([
    ['until=x&bytes=5', { until: new TextEncoder().encode('x'), bytes: 5 }],
    ['until=x&idle_ms=7', { until: new TextEncoder().encode('x'), idleMs: 7 }],
    ['bytes=5&idle_ms=7', { bytes: 5, idleMs: 7 }],
    ['until=x', { until: new TextEncoder().encode('x') }],
    ['', { idleMs: 200 }],
  ])('%s: the read ends on whichever comes first of those given (the quiet gap only when given, or when nothing else is)', async (params, read) => {
    const { call, calls } = appWith({}, { peers: { '127.0.0.1:9': reply('x') } });
    expect((await call(`/tcp/send?host=127.0.0.1&port=9&${params}`)).status).toBe(200);
    expect(calls[0]!.steps[0]!.read).toEqual(read);
  });

  test('msg is bytes: any byte value is sent as is', async () => {
    const { call, calls } = appWith({}, { peers: { '127.0.0.1:9': reply('x') } });
    await call('/tcp/send?host=127.0.0.1&port=9&msg=%00%FF%C0%AF');
    expect([...(calls[0]!.steps[0]!.send as Uint8Array)]).toEqual([0, 0xff, 0xc0, 0xaf]);
  });

  test('a reply cut at the cap is marked X-Truncated: true', async () => {
    const { call } = appWith({}, { peers: { '127.0.0.1:9': reply('xxxx', 'limit') } });
    const r = await call('/tcp/send?host=127.0.0.1&port=9');
    expect(r.headers.get('x-truncated')).toBe('true');
  });

  test('a message over MAX_MESSAGE_BYTES (counted in UTF-8 bytes) is 413', async () => {
    const { call, calls } = appWith({ MAX_MESSAGE_BYTES: '4' });
    const r = await call('/tcp/send?host=127.0.0.1&port=9&msg=%C3%A9%C3%A9%C3%A9');
    expect(r.status).toBe(413);
    expect(r.code).toBe('message-too-large');
    expect(r.text).toContain('MAX_MESSAGE_BYTES');
    expect(calls).toEqual([]);
  });

  test('resolved addresses are tried IPv4 first, in order, until one connects', async () => {
    const six: IpAddress = { tag: 'ipv6', val: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1] };
    const { call, calls } = appWith({}, { names: { 'multi.example': [six, v4(192, 0, 2, 1), v4(192, 0, 2, 2)] }, peers: { '[2001:db8::1]:5': reply('v6') } });
    const r = await call('/tcp/send?host=multi.example&port=5');
    expect(r.text).toBe('v6');
    expect(calls.map((c) => c.to)).toEqual(['192.0.2.1:5', '192.0.2.2:5', '[2001:db8::1]:5']);
  });

  test('an address the resolver returns twice is tried once', async () => {
    const { call, calls } = appWith({}, { names: { 'dup.example': [v4(192, 0, 2, 1), v4(192, 0, 2, 1)] } });
    await call('/tcp/send?host=dup.example&port=5');
    expect(calls).toHaveLength(1);
  });

  test('when every address fails to connect, the error says how many were tried', async () => {
    const { call } = appWith({}, { names: { 'multi.example': [v4(192, 0, 2, 1), v4(192, 0, 2, 2)] } });
    const r = await call('/tcp/send?host=multi.example&port=5');
    expect(r.status).toBe(502);
    expect(r.code).toBe('connection-refused');
    expect(r.text).toContain('tried 2 addresses');
  });

  test('the request deadline runs on the network\'s monotonic clock: each address gets only the time left, none once it is used up', async () => {
    const clock = virtualClock();
    const refuseAfter = (ms: number) => () => {
      clock.advance(ms);
      throw new SocketFault('connect', 'connection-refused');
    };
    const names = { 'multi.example': [v4(192, 0, 2, 1), v4(192, 0, 2, 2), v4(192, 0, 2, 3)] };
    const { call, calls } = appWith(
      { REQUEST_DEADLINE_MS: '1000', CONNECT_TIMEOUT_MS: '1000' },
      { clock, names, peers: { '192.0.2.1:5': refuseAfter(400), '192.0.2.2:5': refuseAfter(600), '192.0.2.3:5': reply('x') } },
    );
    const r = await call('/tcp/send?host=multi.example&port=5');
    expect(r.code).toBe('connection-refused');
    expect(calls.map((c) => [c.to, c.limits.deadlineMs])).toEqual([['192.0.2.1:5', 1000], ['192.0.2.2:5', 600]]);
  });

  test('a failure after connecting is final: the next address is not tried', async () => {
    const { call, calls } = appWith(
      {},
      { names: { 'multi.example': [v4(192, 0, 2, 1), v4(192, 0, 2, 2)] }, peers: { '192.0.2.1:5': new SocketFault('read', 'deadline'), '192.0.2.2:5': reply('x') } },
    );
    const r = await call('/tcp/send?host=multi.example&port=5');
    expect(r.status).toBe(504);
    expect(r.code).toBe('read-timeout');
    expect(calls).toHaveLength(1);
  });

  const HOST_REQUIRED = 'parameter "host" is required (for example host=127.0.0.1)';
  const PORT_REQUIRED = 'parameter "port" is required (for example port=6379)';
  const badEncoding = (name: string) => `parameter "${name}" has invalid percent-encoding (each % must start a %XX escape, and text must be UTF-8)`;
  test.each([
    ['', 400, 'missing-parameter', HOST_REQUIRED],
    ['?host=127.0.0.1', 400, 'missing-parameter', PORT_REQUIRED],
    ['?port=80', 400, 'missing-parameter', HOST_REQUIRED],
    ['?host=&port=80', 400, 'missing-parameter', HOST_REQUIRED],
    ['?host=127.0.0.1&port=0x50', 400, 'invalid-port', 'port "0x50" is not a port number: use a decimal number from 1 to 65535'],
    ['?host=127.0.0.1&port=1e3', 400, 'invalid-port', 'port "1e3" is not a port number: use a decimal number from 1 to 65535'],
    ['?host=127.0.0.1&port=80&port=81', 400, 'duplicate-parameter', 'parameter "port" is given more than once; give it once'],
    ['?host=127.0.0.1&port=80&msg=%E0%A4%A', 400, 'invalid-encoding', badEncoding('msg')],
    ['?host=%FF&port=80', 400, 'invalid-encoding', badEncoding('host')],
    ['?host=a.b:443&port=80', 400, 'invalid-host', 'host "a.b:443" is not a valid host name or IP address (":" appears in IPv6 addresses only; give the port separately)'],
  ])('%s → %i %s: %s', async (query, status, code, message) => {
    const { call } = appWith({});
    const r = await call(`/tcp/send${query}`);
    expect([r.status, r.code, (JSON.parse(r.text) as { error: { message: string } }).error.message]).toEqual([status, code, message]);
  });
});

describe('a malformed query string', () => {
  test.each(['/health?a=1&a=2', '/openapi.json?x=%zz', '/mcp?a&a'])('is refused on %s too, whose handler reads no query', async (path) => {
    const r = await appWith({}).call(path, { method: path.startsWith('/mcp') ? 'POST' : 'GET' });
    expect([r.status, r.code]).toEqual([400, path.includes('%zz') ? 'invalid-encoding' : 'duplicate-parameter']);
  });

  test('is refused after the token is checked: without one, it is 401', async () => {
    const r = await appWith({ AUTH_TOKEN: 'app-unit-token-0123456789abcdef' }).call('/openapi.json?a=1&a=2');
    expect([r.status, r.code]).toEqual([401, 'unauthorized']);
  });
});

describe('POST /tcp/send', () => {
  const post = (query: string, body: RequestInit['body']) => ({ path: `/tcp/send?host=127.0.0.1&port=9${query}`, init: { method: 'POST', body } });

  test('sends the body as is', async () => {
    const { call, calls } = appWith({}, { peers: { '127.0.0.1:9': reply('x') } });
    const { path, init } = post('&bytes=1', new Uint8Array([0, 1, 0xfe, 0xff]));
    expect((await call(path, init)).status).toBe(200);
    expect([...(calls[0]!.steps[0]!.send as Uint8Array)]).toEqual([0, 1, 0xfe, 0xff]);
    expect(calls[0]!.steps[0]!.read).toEqual({ bytes: 1 });
  });

  test('a body of exactly MAX_MESSAGE_BYTES is sent; one byte more is 413', async () => {
    const { call, calls } = appWith({ MAX_MESSAGE_BYTES: '8' }, { peers: { '127.0.0.1:9': reply('x') } });
    expect((await call(post('', new Uint8Array(8)).path, post('', new Uint8Array(8)).init)).status).toBe(200);
    const over = await call(post('', new Uint8Array(9)).path, post('', new Uint8Array(9)).init);
    expect([over.status, over.code]).toEqual([413, 'message-too-large']);
    expect(calls).toHaveLength(1);
  });

  test.each([
    ['with a body', 'b'],
    ['with an empty body', ''],
  ])('msg on POST is a 400 (%s): POST sends its body', async (_, body) => {
    const { call, calls } = appWith({}, { peers: { '127.0.0.1:9': reply('x') } });
    const r = await call(post('&msg=a', body).path, post('&msg=a', body).init);
    expect([r.status, r.code]).toEqual([400, 'invalid-parameter']);
    expect(calls).toEqual([]);
  });
});

describe('GET /ready', () => {
  test('answers 200 when every setting is well-formed', async () => {
    const { call } = appWith({});
    const r = await call('/ready');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ status: 'ready' });
  });

  test('answers 503 config-invalid listing each malformed setting and its form, never a value', async () => {
    const { call } = appWith({ CONNECT_TIMEOUT_MS: 'soon', AUTH_TOKEN: 'tiny secret', DENIED_TARGETS: 'internal-db-password-like' });
    const r = await call('/ready');
    expect(r.status).toBe(503);
    expect(r.code).toBe('config-invalid');
    const body = JSON.parse(r.text) as { settings: { name: string; expected: string }[] };
    expect(body.settings.map((s) => s.name).sort()).toEqual(['AUTH_TOKEN', 'CONNECT_TIMEOUT_MS', 'DENIED_TARGETS']);
    for (const value of ['soon', 'tiny secret', 'internal-db-password-like']) expect(r.text).not.toContain(value);
  });

  test('needs no token, like /health, so probes can call it', async () => {
    const { call } = appWith({ AUTH_TOKEN: 'a-very-long-token-0123456789' });
    expect((await call('/ready')).status).toBe(200);
    expect((await call('/tcp/send?host=127.0.0.1&port=7')).status).toBe(401);
  });

  test('/health stays 200 whatever the settings (liveness never depends on them)', async () => {
    const { call } = appWith({ CONNECT_TIMEOUT_MS: 'soon', AUTH_TOKEN: 'x' });
    expect((await call('/health')).status).toBe(200);
    expect((await call('/ready')).status).toBe(503);
  });
});
