// Real protocols through the built component on every host: binary sends, reads that end on cue, and
// dialogues on one connection, against a Redis-style peer, a greeting line protocol and a binary mirror.

import http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALL_HOSTS, localHost, type RunningHost, suiteName } from '../support/hosts.js';
import { get } from '../support/http.js';
import { endlessPeer, greetingPeer, keepOpenPeer, mirrorPeer, silentPeer, tcpPeer, type Peer } from '../support/peers.js';

const MAX_MESSAGE_BYTES = 65_536;
const REPLY_IDLE_MS = 150;
const LIMITS = {
  CONNECT_TIMEOUT_MS: '1000',
  REQUEST_DEADLINE_MS: '3000',
  REPLY_IDLE_MS: String(REPLY_IDLE_MS),
  MAX_REPLY_BYTES: '200000',
  MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
  ALLOWED_TARGETS: '127.0.0.0/8:*',
};
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
/** POSTs `body`; the response status, or `cut` when the server closed the connection before a response arrived. */
function uploadOutcome(url: string, body: Buffer): Promise<number | 'cut'> {
  return new Promise((resolve) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-length': String(body.length) } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', () => resolve('cut'));
    // The server may answer and close while the body is still being written: the write then fails with EPIPE
    // on the socket after the request let go of it (seen in CI as an uncaught error). That is the expected cut.
    request.on('socket', (socket) => socket.on('error', () => resolve('cut')));
    request.end(body);
  });
}
const percentEncoded = (bytes: Buffer) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

for (const kind of ALL_HOSTS) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('protocols on ', kind), () => {
    let host: RunningHost;
    let redis: Peer;
    let greeting: Peer;
    let mirror: Peer;
    let silent: Peer;
    let endless: Peer;
    let split: Peer;
    const post = (path: string, body: RequestInit['body'], headers: Record<string, string> = {}) => get(host.url, path, { method: 'POST', body, headers });
    const exchange = async (body: unknown) => {
      const r = await post('/tcp/exchange', JSON.stringify(body), { 'content-type': 'application/json' });
      return { ...r, json: JSON.parse(r.text) as Record<string, unknown> & { steps: { reply: { text?: string; base64?: string }; end: string; bytes: number }[] } };
    };

    beforeAll(async () => {
      [redis, greeting, mirror, silent, endless] = await Promise.all([keepOpenPeer(), greetingPeer(), mirrorPeer(), silentPeer(), endlessPeer()]);
      // Sends its reply in pieces 30 ms apart, so they most likely arrive in separate reads (a peer cannot see
      // the component read). The answer is the same either way; test/unit/reader.test.ts splits them for certain.
      split = await tcpPeer((socket) =>
        socket.once('data', () => {
          const pieces = ['abcE', 'N', 'D!tail'];
          const next = () => {
            const piece = pieces.shift();
            if (piece !== undefined) socket.write(piece, () => setTimeout(next, 30));
          };
          next();
        }),
      );
      host = await kind.start(LIMITS);
    });
    afterAll(async () => {
      await host?.close();
      await Promise.all([redis, greeting, mirror, silent, endless, split].map((p) => p?.close()));
    });

    describe('/tcp/send', () => {
      test('until=%0D%0A ends a Redis PING on the terminator, not on the quiet gap', async () => {
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${redis.port}&msg=PING%0D%0A&until=%0D%0A`);
        expect(r.status).toBe(200);
        expect(r.text).toBe('+PONG\r\n');
        expect(r.headers.get('x-reply-end')).toBe('until');
      });

      test('without until, the same peer ends on the quiet gap', async () => {
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${redis.port}&msg=PING%0D%0A`);
        expect(r.headers.get('x-reply-end')).toBe('idle');
      });

      test('until stops right after its first occurrence: later bytes are not returned', async () => {
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${mirror.port}&msg=a%0Db%0D%0Ac%0D%0A&until=%0D%0A`);
        expect(r.text).toBe('a\rb\r\n');
        expect(r.headers.get('x-reply-end')).toBe('until');
      });

      test('an until sequence split across several reads is found where it ends', async () => {
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${split.port}&msg=go&until=END!`);
        expect(r.text).toBe('abcEND!');
        expect(r.headers.get('x-reply-end')).toBe('until');
      });

      test('GET msg sends every byte value, and bytes=256 returns exactly those bytes', async () => {
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${mirror.port}&msg=${percentEncoded(ALL_BYTES)}&bytes=256`);
        expect(r.status).toBe(200);
        expect(r.body.equals(ALL_BYTES)).toBe(true);
        expect(r.headers.get('x-reply-end')).toBe('bytes');
      });

      test('POST sends the body as is (binary), and bytes=N stops after N bytes', async () => {
        const body = Buffer.concat([ALL_BYTES, ALL_BYTES]);
        const r = await post(`/tcp/send?host=127.0.0.1&port=${mirror.port}&bytes=300`, body);
        expect(r.status).toBe(200);
        expect(r.body.equals(body.subarray(0, 300))).toBe(true);
        expect(r.headers.get('x-reply-end')).toBe('bytes');
        expect(mirror.received.at(-1)!.equals(body)).toBe(true);
      });

      test('POST with a body of exactly MAX_MESSAGE_BYTES is sent whole', async () => {
        const body = Buffer.alloc(MAX_MESSAGE_BYTES, 0xab);
        const r = await post(`/tcp/send?host=127.0.0.1&port=${mirror.port}&bytes=${MAX_MESSAGE_BYTES}`, body);
        expect(r.status).toBe(200);
        expect(r.body.equals(body)).toBe(true);
      });

      test('POST with a body one byte over MAX_MESSAGE_BYTES is 413, and nothing is sent', async () => {
        const before = mirror.received.length;
        const r = await post(`/tcp/send?host=127.0.0.1&port=${mirror.port}`, Buffer.alloc(MAX_MESSAGE_BYTES + 1));
        expect([r.status, r.code]).toEqual([413, 'message-too-large']);
        expect(r.text).toContain(`the body is ${MAX_MESSAGE_BYTES + 1} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes (MAX_MESSAGE_BYTES)`);
        expect(mirror.received.length).toBe(before);
      });

      test('POST with a body of many megabytes is refused without being read: 413 (on wasmtime and Spin, 413 or the upload cut short)', async () => {
        const before = mirror.received.length;
        const outcome = await uploadOutcome(`${host.url}/tcp/send?host=127.0.0.1&port=${mirror.port}`, Buffer.alloc(128 * MAX_MESSAGE_BYTES));
        // wasmtime and Spin answer 413 and close while the client may still be writing: the client's write can then
        // meet the reset before it reads the answer. The local host lingers, draining the rest, so its client reads the 413.
        if (kind === localHost) expect(outcome).toBe(413);
        else expect([413, 'cut']).toContain(outcome);
        expect(mirror.received.length).toBe(before);
        expect((await get(host.url, '/health')).text).toBe('ok');
      });

      test('msg on POST is a 400: POST sends its body', async () => {
        const r = await post(`/tcp/send?host=127.0.0.1&port=${mirror.port}&msg=a`, 'b');
        expect([r.status, r.code]).toEqual([400, 'invalid-parameter']);
        expect(r.text).toContain('POST /tcp/send sends its request body: give the message as the body (msg is for GET)');
      });

      test('with until, the quiet gap does not end the read: the deadline (timeout_ms) does', async () => {
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${redis.port}&msg=PING%0D%0A&until=NEVER&timeout_ms=${REPLY_IDLE_MS * 4}`);
        expect(r.status).toBe(200);
        expect(r.text).toBe('+PONG\r\n');
        expect(r.headers.get('x-reply-end')).toBe('deadline');
      });

      test('timeout_ms bounds a peer that never answers: 504 read-timeout', async () => {
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${silent.port}&msg=x&timeout_ms=300`);
        expect([r.status, r.code]).toEqual([504, 'read-timeout']);
        expect(r.text).toContain(`127.0.0.1:${silent.port} accepted the connection but sent nothing before the deadline (REQUEST_DEADLINE_MS)`);
      });

      test('idle_ms shortens the quiet gap', async () => {
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${redis.port}&msg=PING%0D%0A&idle_ms=1`);
        expect(r.headers.get('x-reply-end')).toBe('idle');
      });

      test.each([
        ['timeout_ms', 'timeout_ms=3001', '3000'],
        ['idle_ms', `idle_ms=${REPLY_IDLE_MS + 1}`, String(REPLY_IDLE_MS)],
        ['bytes', 'bytes=200001', '200000'],
      ])('%s above the server setting is a 400 naming the maximum', async (_, params, max) => {
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${redis.port}&${params}`);
        expect([r.status, r.code]).toEqual([400, 'invalid-parameter']);
        expect(r.text).toContain(max);
      });

      test('a percent-encoded message of 16 KiB in GET is sent whole', async () => {
        const message = Buffer.alloc(16_384, 0xfe);
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${mirror.port}&msg=${percentEncoded(message)}&bytes=${message.length}`);
        expect(r.status).toBe(200);
        expect(r.body.equals(message)).toBe(true);
      });

      test.skipIf(!kind.name.startsWith('local'))('local host: a percent-encoded MAX_MESSAGE_BYTES message fits in the request target; a longer target is a JSON 414', async () => {
        const message = Buffer.alloc(MAX_MESSAGE_BYTES, 0x00);
        const ok = await get(host.url, `/tcp/send?host=127.0.0.1&port=${mirror.port}&msg=${percentEncoded(message)}&bytes=${message.length}`);
        expect(ok.status).toBe(200);
        expect(ok.body.equals(message)).toBe(true);
        const long = await get(host.url, `/tcp/send?host=127.0.0.1&port=${mirror.port}&msg=${'%00'.repeat(MAX_MESSAGE_BYTES + 8192)}`);
        expect([long.status, long.code]).toEqual([414, 'uri-too-long']);
      });
    });

    describe('/tcp/exchange', () => {
      test('a greeting, then a command: one connection, each read ending on CRLF', async () => {
        const r = await exchange({
          host: '127.0.0.1',
          port: greeting.port,
          steps: [{ until: { text: '\r\n' } }, { send: { text: 'HELO me\r\n' }, until: { text: '\r\n' } }, { send: { text: 'NOOP\r\n' }, until: { hex: '0d0a' } }],
        });
        expect(r.status).toBe(200);
        expect(r.json.peer).toBe(`127.0.0.1:${greeting.port}`);
        expect(r.json.steps.map((s) => [s.reply.text, s.end, s.bytes])).toEqual([
          ['220 ready\r\n', 'until', 11],
          ['250 HELO me\r\n', 'until', 13],
          ['250 NOOP\r\n', 'until', 10],
        ]);
        expect(greeting.received.at(-1)!.toString()).toBe('HELO me\r\nNOOP\r\n');
      });

      test('two commands sent at once: the second reply waits for the second step', async () => {
        const r = await exchange({
          host: '127.0.0.1',
          port: greeting.port,
          steps: [{ until: { text: '\r\n' } }, { send: { text: 'A\r\nB\r\n' }, until: { text: '\r\n' } }, { until: { text: '\r\n' } }],
        });
        expect(r.json.steps.map((s) => s.reply.text)).toEqual(['220 ready\r\n', '250 A\r\n', '250 B\r\n']);
      });

      test('binary: base64 and hex sends, replies that are not UTF-8 come back as base64', async () => {
        const r = await exchange({
          host: '127.0.0.1',
          port: mirror.port,
          steps: [
            { send: { base64: ALL_BYTES.toString('base64') }, bytes: 256 },
            { send: { hex: 'c3a9' }, bytes: 2 },
          ],
        });
        expect(r.status).toBe(200);
        expect(r.json.steps[0]).toMatchObject({ reply: { base64: ALL_BYTES.toString('base64') }, end: 'bytes', bytes: 256 });
        expect(r.json.steps[1]).toMatchObject({ reply: { text: 'é' }, end: 'bytes', bytes: 2 });
      });

      test('Redis: two PINGs on one connection, each ending on CRLF', async () => {
        const r = await exchange({ host: '127.0.0.1', port: redis.port, steps: [{ send: { text: 'PING\r\n' }, until: { text: '\r\n' } }, { send: { text: 'PING\r\n' }, until: { text: '\r\n' } }] });
        expect(r.json.steps.map((s) => [s.reply.text, s.end])).toEqual([
          ['+PONG\r\n', 'until'],
          ['+PONG\r\n', 'until'],
        ]);
        expect(redis.received.at(-1)!.toString()).toBe('PING\r\nPING\r\n');
      });

      test('a step without until or bytes ends on the quiet gap', async () => {
        const r = await exchange({ host: '127.0.0.1', port: redis.port, steps: [{ send: { text: 'PING\r\n' }, idle_ms: 20 }] });
        expect(r.json.steps[0]).toMatchObject({ reply: { text: '+PONG\r\n' }, end: 'idle' });
      });

      test('a fault after connecting returns the usual error with the steps completed so far', async () => {
        const r = await exchange({ host: '127.0.0.1', port: greeting.port, timeout_ms: 500, steps: [{ until: { text: '\r\n' } }, { until: { text: '\r\n' } }] });
        expect([r.status, r.code]).toEqual([504, 'read-timeout']);
        // Not "sent nothing": the peer sent its greeting, and nothing for the step after it.
        expect(r.text).toContain(`127.0.0.1:${greeting.port} sent nothing for steps/1 (after 11 bytes in 1 step before) before the deadline (REQUEST_DEADLINE_MS)`);
        expect(r.json.steps).toEqual([{ reply: { text: '220 ready\r\n' }, end: 'until', bytes: 11, ms: expect.any(Number) }]);
      });

      test('one reply cap across steps: MAX_REPLY_BYTES ends the dialogue with end "limit"', async () => {
        const r = await exchange({ host: '127.0.0.1', port: endless.port, steps: [{ bytes: 150_000 }, { bytes: 100_000 }, { bytes: 1 }] });
        expect(r.status).toBe(200);
        expect(r.json.steps.map((s) => [s.end, s.bytes])).toEqual([
          ['bytes', 150_000],
          ['limit', 50_000],
        ]);
      });

      test('the same destination policy: a denied address is 403 and nothing connects', async () => {
        const r = await exchange({ host: '10.0.0.1', port: 80, steps: [{ send: { text: 'x' } }] });
        expect([r.status, r.code]).toEqual([403, 'destination-denied']);
      });
    });
  });
}
