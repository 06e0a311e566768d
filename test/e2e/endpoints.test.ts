// The built component, end to end on every available host, against real peers on 127.0.0.1.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually, echoPeer, hasIpv6Loopback, startPeerSet, type Peer } from '../support/peers.js';
import { get } from '../support/http.js';
import { ALL_HOSTS, type RunningHost, suiteName } from '../support/hosts.js';
import { socketsAfterRequests } from '../support/leak-check.js';

const LIMITS = {
  CONNECT_TIMEOUT_MS: '1000',
  REQUEST_DEADLINE_MS: '2000',
  REPLY_IDLE_MS: '200',
  MAX_REPLY_BYTES: '65536',
  MAX_MESSAGE_BYTES: '1024',
  // The test peers live on loopback, which the component denies unless allowed.
  ALLOWED_TARGETS: '127.0.0.0/8:*,[::1]:*',
};

for (const kind of ALL_HOSTS) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('on ', kind), () => {
    let set: Awaited<ReturnType<typeof startPeerSet>>;
    let peers: typeof set.peers;
    let web: typeof set.web;
    let host: RunningHost;
    let base = '';
    let refusedPort = 0;
    const send = (port: number, msg: string, hostName = '127.0.0.1') =>
      get(base, `/tcp/send?host=${encodeURIComponent(hostName)}&port=${port}&msg=${encodeURIComponent(msg)}`);
    /** Asserts that the component closed every connection it opened to `peer`. */
    const expectNoConnectionLeft = async (peer: Peer) => expect(await eventually(async () => (await peer.openConnections()) === 0), 'the peer still holds a connection').toBe(true);

    beforeAll(async () => {
      set = await startPeerSet();
      ({ peers, web, refusedPort } = set);
      host = await kind.start({
        ...LIMITS,
        // A name, so the default target goes through name lookup, or through the fallback where lookups are refused.
        DEFAULT_TARGET_HOST: 'localhost',
        DEFAULT_TARGET_PORT: String(web.port),
        DEFAULT_TARGET_FALLBACK_IPS: '127.0.0.1',
      });
      base = host.url;
    });

    afterAll(async () => {
      await host?.close();
      await set?.close();
    });

    test('GET /health answers 200 ok as text/plain', async () => {
      const r = await get(base, '/health');
      expect(r.status).toBe(200);
      expect(r.text).toBe('ok');
      expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    });

    test('tcp/send returns the echo server reply (the original test: msg=hello%20wasi)', async () => {
      const r = await get(base, `/tcp/send?host=127.0.0.1&port=${peers.echo.port}&msg=hello%20wasi`);
      expect(r.status).toBe(200);
      expect(r.text).toBe('echo:hello wasi');
      expect(r.headers.get('x-peer-address')).toBe(`127.0.0.1:${peers.echo.port}`);
    });

    test('GET /?host=&port= sends an HTTP/1.1 GET with Host and Connection: close and returns the raw reply', async () => {
      const r = await get(base, `/?host=127.0.0.1&port=${web.port}`);
      expect(r.status).toBe(200);
      expect(r.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(r.text).toContain(`hello from 127.0.0.1:${web.port}`);
      const head = web.heads.at(-1)!;
      expect(head).toMatch(/^GET \/ HTTP\/1\.1\r\n/);
      expect(head).toContain(`host: 127.0.0.1:${web.port}`);
      expect(head).toContain('connection: close');
    });

    test('GET / without parameters goes to the configured default target', async () => {
      const r = await get(base, '/');
      expect(r.status).toBe(200);
      expect(r.text).toContain(`hello from localhost:${web.port}`);
      expect(r.headers.get('x-peer-address')).toBe(`127.0.0.1:${web.port}`);
    });

    test('a peer that answers and keeps the connection open returns after the quiet gap, not the deadline', async () => {
      const r = await send(peers.keepOpen.port, 'PING\r\n');
      expect(r.status).toBe(200);
      expect(r.text).toBe('+PONG\r\n');
      expect(r.headers.get('x-reply-end')).toBe('idle');
      await expectNoConnectionLeft(peers.keepOpen);
    });

    test('a peer that closes after answering ends the reply with x-reply-end: closed', async () => {
      const r = await send(peers.echoClose.port, 'bye');
      expect(r.text).toBe('echo:bye');
      expect(r.headers.get('x-reply-end')).toBe('closed');
    });

    test('a peer that never answers gives 504 read-timeout', async () => {
      const r = await send(peers.silent.port, 'hello?');
      expect(r.status).toBe(504);
      expect(r.code).toBe('read-timeout');
      expect(r.text).toContain(`127.0.0.1:${peers.silent.port}`);
      await expectNoConnectionLeft(peers.silent);
    });

    test('a peer that sends without end is cut at MAX_REPLY_BYTES and marked X-Truncated', async () => {
      const r = await send(peers.endless.port, 'go');
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(Number(LIMITS.MAX_REPLY_BYTES));
      expect(r.headers.get('x-truncated')).toBe('true');
      expect(r.headers.get('x-reply-end')).toBe('limit');
      await expectNoConnectionLeft(peers.endless);
    });

    test('a closed port gives 502 connection-refused naming the target', async () => {
      const r = await send(refusedPort, 'x');
      expect(r.status).toBe(502);
      expect(r.code).toBe('connection-refused');
      expect(r.text).toContain(`127.0.0.1:${refusedPort}`);
    });

    test('a peer that resets mid-reply gives 502 connection-reset', async () => {
      const r = await send(peers.reset.port, 'x');
      expect(r.status).toBe(502);
      expect(r.code).toBe('connection-reset');
      await expectNoConnectionLeft(peers.reset);
    });

    test('a peer that closes before reading gives an empty reply or a reset, never a hang', async () => {
      const r = await send(peers.closeAtOnce.port, 'x');
      expect([200, 502]).toContain(r.status);
      if (r.status === 200) expect(r.body.length).toBe(0);
      else expect(r.code).toBe('connection-reset');
    });

    test('a peer that half-closes after answering returns its answer', async () => {
      const r = await send(peers.halfClose.port, 'x');
      expect(r.status).toBe(200);
      expect(r.text).toBe('bye:x');
      await expectNoConnectionLeft(peers.halfClose);
    });

    test('an unresolvable name gives 502 with a resolve error', async () => {
      const r = await send(peers.echo.port, 'x', 'does-not-exist.invalid');
      expect(r.status).toBe(502);
      expect(kind.resolvesNames ? ['name-unresolvable', 'resolver-failure'] : ['lookup-refused']).toContain(r.code);
    });

    test.skipIf(!kind.resolvesNames)('a name resolves through ip-name-lookup (localhost)', async () => {
      const r = await send(peers.echo.port, 'by name', 'localhost');
      expect(r.status).toBe(200);
      expect(r.text).toBe('echo:by name');
    });

    test('a bracketed IPv6 literal connects over IPv6 (when the machine has ::1)', async (ctx) => {
      if (!(await hasIpv6Loopback())) ctx.skip();
      const peer = await echoPeer({ host: '::1' });
      try {
        const r = await send(peer.port, 'six', '[::1]');
        expect(r.status).toBe(200);
        expect(r.text).toBe('echo:six');
        expect(r.headers.get('x-peer-address')).toBe(`[::1]:${peer.port}`);
      } finally {
        await peer.close();
      }
    });

    test('50 concurrent requests each get their own reply, with no cross-talk', async () => {
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => send(peers.echo.port, `message-${i}`)));
      replies.forEach((r, i) => {
        expect(r.status).toBe(200);
        expect(r.text).toBe(`echo:message-${i}`);
      });
    });

    const notAPort = (text: string) => `port ${JSON.stringify(text)} is not a port number: use a decimal number from 1 to 65535`;
    const NOT_A_NAME = 'is not a valid host name (letters, digits, "-" and "_" in dot-separated labels) or IP address';
    const badInputs: [string, string, number, string, string][] = [
      ['missing host', '/tcp/send?port=80&msg=x', 400, 'missing-parameter', 'parameter "host" is required (for example host=127.0.0.1)'],
      ['missing port', '/tcp/send?host=127.0.0.1&msg=x', 400, 'missing-parameter', 'parameter "port" is required (for example port=6379)'],
      ['non-numeric port', '/tcp/send?host=127.0.0.1&port=abc', 400, 'invalid-port', notAPort('abc')],
      ['port 0', '/tcp/send?host=127.0.0.1&port=0', 400, 'invalid-port', notAPort('0')],
      ['port 65536', '/tcp/send?host=127.0.0.1&port=65536', 400, 'invalid-port', notAPort('65536')],
      ['negative port', '/tcp/send?host=127.0.0.1&port=-1', 400, 'invalid-port', notAPort('-1')],
      [
        'CR/LF in host (header injection into GET /)',
        '/?host=127.0.0.1%0D%0AX-Evil:%201&port=80',
        400,
        'invalid-host',
        'host "127.0.0.1\\r\\nX-Evil: 1" is not a valid host name or IP address (":" appears in IPv6 addresses only; give the port separately)',
      ],
      ['NUL in host', '/tcp/send?host=127.0.0.1%00&port=80', 400, 'invalid-host', `host "127.0.0.1\\u0000" ${NOT_A_NAME}`],
      ['space in host', '/tcp/send?host=exa%20mple.com&port=80', 400, 'invalid-host', `host "exa mple.com" ${NOT_A_NAME}`],
      ['CR/LF in port', '/?host=127.0.0.1&port=80%0D%0A', 400, 'invalid-port', notAPort('80\r\n')],
      ['invalid percent-encoding', '/tcp/send?host=127.0.0.1&port=80&msg=%zz', 400, 'invalid-encoding', 'parameter "msg" has invalid percent-encoding (each % must start a %XX escape, and text must be UTF-8)'],
      ['repeated parameter', '/tcp/send?host=127.0.0.1&host=10.0.0.1&port=80', 400, 'duplicate-parameter', 'parameter "host" is given more than once; give it once'],
      ['message over MAX_MESSAGE_BYTES', `/tcp/send?host=127.0.0.1&port=80&msg=${'a'.repeat(1025)}`, 413, 'message-too-large', 'the message is 1025 bytes; the limit is 1024 bytes (MAX_MESSAGE_BYTES)'],
      ['unknown path', '/nope', 404, 'not-found', 'no endpoint at /nope; the endpoints are /health'],
    ];
    test.each(badInputs)('bad input: %s → %i %s, saying what is wrong', async (_, path, status, code, message) => {
      const r = await get(base, path);
      expect(r.status).toBe(status);
      expect(r.code).toBe(code);
      expect((JSON.parse(r.text) as { error: { message: string } }).error.message).toContain(message);
      expect(r.headers.get('content-type')).toBe('application/json');
    });

    test.each([
      ['DELETE', '/tcp/send?host=127.0.0.1&port=1', 'GET, POST'],
      ['POST', '/health', 'GET'],
      ['GET', '/tcp/exchange', 'POST'],
      ['GET', '/mcp', 'POST'],
    ])('%s %s → 405 with an Allow header naming the methods it takes', async (method, path, allow) => {
      const r = await get(base, path, { method, body: method === 'GET' ? undefined : 'x' });
      expect(r.status).toBe(405);
      expect(r.code).toBe('method-not-allowed');
      expect(r.headers.get('allow')).toBe(allow);
    });

    test('the service stays healthy through faults at once, and no peer is left holding a connection', async () => {
      const faulty = [peers.reset, peers.closeAtOnce, peers.endless, peers.halfClose, peers.keepOpen];
      const replies = await Promise.all([...faulty.map((peer) => send(peer.port, 'x')), send(refusedPort, 'x')]);
      for (const r of replies) expect([200, 502]).toContain(r.status);
      expect((await get(base, '/health')).text).toBe('ok');
      for (const peer of faulty) await expectNoConnectionLeft(peer);
    });

    test.skipIf(kind.name.startsWith('local') === false)('300 requests leave no socket behind in the host process (npm run soak: 10,000)', async () => {
      const report = await socketsAfterRequests({ pid: host.pid, send: (msg) => send(peers.echoClose.port, msg), peer: peers.echoClose, warmup: 100, count: 300 });
      expect(report.after, `sockets before ${report.before}, after ${report.after}`).toBeLessThanOrEqual(report.before + 4);
    });
  });
}
