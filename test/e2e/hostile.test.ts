// Safe to expose: hostile input, denied destinations, authentication, fault peers and a bounded abuse run,
// all through the built component on a real host, against real peers on 127.0.0.1.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALL_HOSTS, openSocketCount, suiteName, type RunningHost } from '../support/hosts.js';
import { eventually, startPeerSet, type Peer } from '../support/peers.js';
import { get as getWith } from '../support/http.js';

const TOKEN = 'e2e-token-0123456789abcdef';
const DEADLINE_MS = 2000;
const CONNECT_MS = 1000;
/** Slack for process scheduling on a loaded 2-core machine; the component's own deadlines are what is tested. */
const SLACK_MS = 1500;

const get = (base: string, path: string, headers: Record<string, string> = {}) => getWith(base, path, { headers });
/** The message of a JSON error body: each refusal of caller input is checked for what it says, not only its code. */
const messageOf = (text: string) => (JSON.parse(text) as { error: { message: string } }).error.message;

for (const kind of ALL_HOSTS) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('safe to expose, on ', kind), () => {
    let set: Awaited<ReturnType<typeof startPeerSet>>;
    let peers: typeof set.peers;
    let web: typeof set.web;
    let strict: RunningHost; // the component's own defaults, plus a token
    let lenient: RunningHost; // loopback allowed, as in the local profile
    let refusedPort = 0;
    const auth = { authorization: `Bearer ${TOKEN}` };

    beforeAll(async () => {
      set = await startPeerSet();
      ({ peers, web, refusedPort } = set);
      // A quiet gap well above the peers' own pauses (a drip every 100 ms, a reset 50 ms after a partial
      // reply), so a scheduling stall on a loaded machine cannot end a read early and change the answer.
      const limits = {
        REQUEST_DEADLINE_MS: String(DEADLINE_MS),
        CONNECT_TIMEOUT_MS: String(CONNECT_MS),
        REPLY_IDLE_MS: '1000',
        MAX_MESSAGE_BYTES: '1024',
        MAX_REPLY_BYTES: '65536',
      };
      [strict, lenient] = await Promise.all([
        // An explicitly empty ALLOWED_TARGETS opts out of the local profile: the component's defaults apply.
        kind.start({ ...limits, ALLOWED_TARGETS: '', AUTH_TOKEN: TOKEN, DEFAULT_TARGET_HOST: '127.0.0.1', DEFAULT_TARGET_PORT: String(web.port) }),
        kind.start({ ...limits, ALLOWED_TARGETS: '127.0.0.0/8:*,[::1]:*', DEFAULT_TARGET_HOST: '127.0.0.1', DEFAULT_TARGET_PORT: String(web.port) }),
      ]);
    });

    afterAll(async () => {
      await Promise.all([strict?.close(), lenient?.close()]);
      await set?.close();
    });

    describe('hostile input through the real component (default policy, AUTH_TOKEN set)', () => {
      // Every case points at a real echo peer on loopback: if a check were missing, the request would get 200.
      const cases = (): [string, string, number, string, string?][] => {
        const p = peers.echo.port;
        const send = (host: string, port: string | number = p) => `/tcp/send?host=${host}&port=${port}&msg=x`;
        return [
          ['dotted loopback', send('127.0.0.1'), 403, 'destination-denied'],
          ['decimal 2130706433', send('2130706433'), 403, 'destination-denied'],
          ['hex 0x7f.1', send('0x7f.1'), 403, 'destination-denied'],
          ['hex 0x7f000001', send('0x7f000001'), 403, 'destination-denied'],
          ['octal 0177.0.0.1', send('0177.0.0.1'), 403, 'destination-denied'],
          ['short 127.1', send('127.1'), 403, 'destination-denied'],
          ['trailing dot 127.0.0.1.', send('127.0.0.1.'), 403, 'destination-denied'],
          ['percent-encoded 127.0.0.%31', send('127.0.0.%31'), 403, 'destination-denied'],
          ['fully percent-encoded', send('%31%32%37%2e%30%2e%30%2e%31'), 403, 'destination-denied'],
          ['IPv6 loopback bracketed', send('[::1]'), 403, 'destination-denied'],
          ['IPv6 loopback bare', send('::1'), 403, 'destination-denied'],
          ['IPv6 long form', send('[0:0:0:0:0:0:0:1]'), 403, 'destination-denied'],
          ['IPv4-mapped IPv6', send('[::ffff:127.0.0.1]'), 403, 'destination-denied'],
          ['IPv4-mapped IPv6, hex', send('[::ffff:7f00:1]'), 403, 'destination-denied'],
          ['NAT64 form', send('[64:ff9b::7f00:1]'), 403, 'destination-denied'],
          ['6to4 form', send('[2002:7f00:1::]'), 403, 'destination-denied'],
          ['unspecified 0.0.0.0', send('0.0.0.0'), 403, 'destination-denied'],
          ['cloud metadata', send('169.254.169.254', 80), 403, 'destination-denied'],
          ['cloud metadata, decimal', send('2852039166', 80), 403, 'destination-denied'],
          ['AWS IPv6 metadata', send('[fd00:ec2::254]', 80), 403, 'destination-denied'],
          ['private 10/8', send('10.0.0.1', 80), 403, 'destination-denied'],
          ['private 192.168/16', send('192.168.0.1', 80), 403, 'destination-denied'],
          ['zone id', send('[fe80::1%25eth0]'), 400, 'invalid-host', 'host "[fe80::1%eth0]" has an IPv6 zone id; zone ids are not supported, use a global address'],
          ['zone id, bare', send('fe80::1%25eth0'), 400, 'invalid-host', 'host "fe80::1%eth0" has an IPv6 zone id; zone ids are not supported, use a global address'],
          ['CR/LF in host', send('127.0.0.1%0D%0AHost:%20evil'), 400, 'invalid-host', 'host "127.0.0.1\\r\\nHost: evil" is not a valid host name or IP address (":" appears in IPv6 addresses only; give the port separately)'],
          ['LF in host', send('a%0Ab'), 400, 'invalid-host', 'host "a\\nb" is not a valid host name (letters, digits, "-" and "_" in dot-separated labels) or IP address'],
          ['NUL in host', send('127.0.0.1%00.evil.com'), 400, 'invalid-host', 'host "127.0.0.1\\u0000.evil.com" is not a valid host name (letters, digits, "-" and "_" in dot-separated labels) or IP address'],
          ['space in host', send('127.0.0.1%20'), 400, 'invalid-host', 'host "127.0.0.1 " is not a valid host name (letters, digits, "-" and "_" in dot-separated labels) or IP address'],
          ['CR/LF in port', send('127.0.0.1', '80%0D%0A'), 400, 'invalid-port', 'port "80\\r\\n" is not a port number: use a decimal number from 1 to 65535'],
          ['space in port', send('127.0.0.1', '%2080'), 400, 'invalid-port', 'port " 80" is not a port number: use a decimal number from 1 to 65535'],
          ['NUL in port', send('127.0.0.1', '80%00'), 400, 'invalid-port', 'port "80\\u0000" is not a port number: use a decimal number from 1 to 65535'],
          ['port 0', send('127.0.0.1', 0), 400, 'invalid-port', 'port "0" is not a port number: use a decimal number from 1 to 65535'],
          ['port 65536', send('127.0.0.1', 65536), 400, 'invalid-port', 'port "65536" is not a port number: use a decimal number from 1 to 65535'],
          ['port -1', send('127.0.0.1', -1), 400, 'invalid-port', 'port "-1" is not a port number: use a decimal number from 1 to 65535'],
          ['port 1e3', send('127.0.0.1', '1e3'), 400, 'invalid-port', 'port "1e3" is not a port number: use a decimal number from 1 to 65535'],
          ['port 0x50', send('127.0.0.1', '0x50'), 400, 'invalid-port', 'port "0x50" is not a port number: use a decimal number from 1 to 65535'],
          ['port 080', send('127.0.0.1', '080'), 400, 'invalid-port', 'port "080" is not a port number: use a decimal number from 1 to 65535'],
          ['huge port', send('127.0.0.1', '9'.repeat(500)), 400, 'invalid-port', 'port "99999999999999999999…" is not a port number: use a decimal number from 1 to 65535'],
          ['empty host', send(''), 400, 'missing-parameter', 'parameter "host" is required (for example host=127.0.0.1)'],
          ['empty port', send('127.0.0.1', ''), 400, 'missing-parameter', 'parameter "port" is required (for example port=6379)'],
          ['huge host', send('a'.repeat(4000)), 400, 'invalid-host', 'host "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" is not a valid host name (letters, digits, "-" and "_" in dot-separated labels) or IP address'],
          ['huge message', `/tcp/send?host=127.0.0.1&port=${p}&msg=${'x'.repeat(1025)}`, 413, 'message-too-large', 'the message is 1025 bytes; the limit is 1024 bytes (MAX_MESSAGE_BYTES)'],
          ['repeated host', `/tcp/send?host=1.1.1.1&host=127.0.0.1&port=${p}`, 400, 'duplicate-parameter', 'parameter "host" is given more than once; give it once'],
          ['repeated port', `/tcp/send?host=127.0.0.1&port=${p}&port=${p}`, 400, 'duplicate-parameter', 'parameter "port" is given more than once; give it once'],
          ['invalid percent-encoding', `/tcp/send?host=127.0.0.1&port=${p}&msg=%zz`, 400, 'invalid-encoding', 'parameter "msg" has invalid percent-encoding (each % must start a %XX escape, and text must be UTF-8)'],
          ['truncated percent-encoding', `/tcp/send?host=127.0.0.1&port=${p}&msg=abc%`, 400, 'invalid-encoding', 'parameter "msg" has invalid percent-encoding (each % must start a %XX escape, and text must be UTF-8)'],
          ['non-UTF-8 bytes in a text parameter', `/tcp/send?host=127.0.0.1%FF%FE&port=${p}&msg=x`, 400, 'invalid-encoding', 'parameter "host" has invalid percent-encoding (each % must start a %XX escape, and text must be UTF-8)'],
          ['overlong UTF-8 in a text parameter', `/tcp/send?host=%C0%AE&port=${p}&msg=x`, 400, 'invalid-encoding', 'parameter "host" has invalid percent-encoding (each % must start a %XX escape, and text must be UTF-8)'],
          ['invalid percent-encoding in until', `/tcp/send?host=127.0.0.1&port=${p}&msg=x&until=%0`, 400, 'invalid-encoding', 'parameter "until" has invalid percent-encoding (each % must start a %XX escape, and text must be UTF-8)'],
          ['until over 256 characters', `/tcp/send?host=127.0.0.1&port=${p}&msg=x&until=${'%0A'.repeat(257)}`, 400, 'invalid-parameter', 'until is 257 characters; give 1 to 256 (a byte that is not UTF-8 counts as one)'],
          ['until over 256 bytes that are not UTF-8', `/tcp/send?host=127.0.0.1&port=${p}&msg=x&until=${'%FF'.repeat(257)}`, 400, 'invalid-parameter', 'until is 257 characters; give 1 to 256 (a byte that is not UTF-8 counts as one)'],
          ['bytes over MAX_REPLY_BYTES', `/tcp/send?host=127.0.0.1&port=${p}&msg=x&bytes=65537`, 400, 'invalid-parameter', 'bytes is 65537; give a whole number of bytes from 1 to 65536 (the server\'s MAX_REPLY_BYTES)'],
          ['timeout_ms over REQUEST_DEADLINE_MS', `/tcp/send?host=127.0.0.1&port=${p}&msg=x&timeout_ms=2001`, 400, 'invalid-parameter', 'timeout_ms is 2001; give a whole number of ms from 1 to 2000 (the server\'s REQUEST_DEADLINE_MS)'],
          ['idle_ms over REPLY_IDLE_MS', `/tcp/send?host=127.0.0.1&port=${p}&msg=x&idle_ms=100000`, 400, 'invalid-parameter', 'idle_ms is 100000; give a whole number of ms from 1 to 1000 (the server\'s REPLY_IDLE_MS)'],
          ['negative bytes', `/tcp/send?host=127.0.0.1&port=${p}&msg=x&bytes=-1`, 400, 'invalid-parameter', 'bytes "-1" is not a whole number: use decimal digits, from 1'],
          ['GET / with a denied host', `/?host=127.0.0.1&port=${p}`, 403, 'destination-denied'],
          ['GET / default target on loopback', '/', 403, 'destination-denied'],
        ];
      };

      test('each hostile input gets its exact status and code, no connection reaches the peer, and the service stays healthy', async () => {
        const before = peers.echo.received.length;
        const answers = [];
        const expected = [];
        for (const [name, path, status, code, message] of cases()) {
          const r = await get(strict.url, path, auth);
          answers.push({ name, status: r.status, code: r.code, ...(message !== undefined && { message: messageOf(r.text) }) });
          expected.push({ name, status, code, ...(message !== undefined && { message }) });
        }
        expect(answers).toEqual(expected);
        expect(peers.echo.received.length).toBe(before);
        expect((await get(strict.url, '/health')).text).toBe('ok');
        expect((await get(strict.url, '/tcp/send?host=1.1.1.1&port=0', auth)).status).toBe(400);
      });

      test.skipIf(!kind.resolvesNames)('a name that resolves to a denied address is refused (localhost → 127.0.0.1)', async () => {
        const r = await get(strict.url, `/tcp/send?host=localhost&port=${peers.echo.port}&msg=x`, auth);
        expect(r.status).toBe(403);
        expect(r.text).toContain('localhost');
        expect(r.text).toContain('ALLOWED_TARGETS');
      });

      test('without the token every endpoint but /health and /ready is 401', async () => {
        expect((await get(strict.url, '/health')).status).toBe(200);
        for (const path of [`/tcp/send?host=1.1.1.1&port=80`, '/', '/nope']) {
          const r = await get(strict.url, path, { authorization: 'Bearer wrong-token-0123456789' });
          expect(r.status).toBe(401);
          expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
          expect((await get(strict.url, path)).status).toBe(401);
        }
      });

      test('Host header tricks never choose the target', async () => {
        // The inbound Host header names the echo peer; GET / must still go to the configured default (the HTTP peer).
        const tricks = [`127.0.0.1:${peers.echo.port}`, `localhost:${peers.echo.port}`, 'evil.example'];
        for (const host of tricks) {
          const r = await get(lenient.url, '/', { host });
          expect(r.status).toBe(200);
          expect(r.headers.get('x-peer-address')).toBe(`127.0.0.1:${web.port}`);
        }
        const absolute = await get(lenient.url, `//127.0.0.1:${peers.echo.port}/tcp/send`);
        expect(absolute.status).toBe(404);
      });

      // POST /tcp/exchange bodies: each aims at the echo peer on loopback (denied here): a body that got past
      // validation would be a 403, and the peer would see nothing either way.
      const jsonCases = (): [string, string | Uint8Array, number, string, string?][] => {
        const p = peers.echo.port;
        const body = (fields: Record<string, unknown>, step: Record<string, unknown> = { send: { text: 'x' } }) =>
          JSON.stringify({ host: '127.0.0.1', port: p, steps: [step], ...fields });
        return [
          ['a valid body to a denied address', body({}), 403, 'destination-denied'],
          ['malformed JSON', '{"host": "127.0.0.1",', 400, 'invalid-json', expect.stringMatching(/^the body is not valid JSON \(UTF-8\): /)],
          ['an empty body', '', 400, 'invalid-json', expect.stringMatching(/^the body is not valid JSON \(UTF-8\): /)],
          ['not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]), 400, 'invalid-json', expect.stringMatching(/^the body is not valid JSON \(UTF-8\): /)],
          ['deeply nested arrays', '['.repeat(60_000), 400, 'invalid-json', expect.stringMatching(/^the body is not valid JSON \(UTF-8\): /)],
          ['an array', '[]', 400, 'invalid-body', 'the body: is an array; give an object with host, port, tls, timeout_ms and steps (the schema is in GET /openapi.json)'],
          ['null', 'null', 400, 'invalid-body', 'the body: is null; give an object with host, port, tls, timeout_ms and steps (the schema is in GET /openapi.json)'],
          ['a string', '"127.0.0.1"', 400, 'invalid-body', 'the body: is the string "127.0.0.1"; give an object with host, port, tls, timeout_ms and steps (the schema is in GET /openapi.json)'],
          ['an unknown field', body({ extra: 1 }), 400, 'invalid-body', 'the body: has an unknown field "extra" (the fields are host, port, tls, timeout_ms and steps) (the schema is in GET /openapi.json)'],
          ['__proto__ at the top', `{"__proto__": {"admin": true}, ${body({}).slice(1)}`, 400, 'invalid-body', 'the body: has an unknown field "__proto__" (the fields are host, port, tls, timeout_ms and steps) (the schema is in GET /openapi.json)'],
          ['__proto__ in a step', body({}, { __proto__: null, send: { text: 'x' } }).replace('"send"', '"__proto__": {"x": 1}, "send"'), 400, 'invalid-body', 'steps/0: has an unknown field "__proto__" (the fields are starttls, send, until, bytes and idle_ms) (the schema is in GET /openapi.json)'],
          ['constructor in a byte value', body({}, { send: { text: 'x', constructor: 'y' } }), 400, 'invalid-body', 'steps/0/send: has an unknown field "constructor" (the fields are text, base64 and hex) (the schema is in GET /openapi.json)'],
          ['two encodings in one value', body({}, { send: { text: 'x', hex: '78' } }), 400, 'invalid-body', 'steps/0/send: gives text and hex; give exactly one of text, base64 and hex (the schema is in GET /openapi.json)'],
          ['no encoding', body({}, { send: {} }), 400, 'invalid-body', 'steps/0/send: gives none; give exactly one of text, base64 and hex (the schema is in GET /openapi.json)'],
          ['bad base64', body({}, { send: { base64: 'a$==' } }), 400, 'invalid-body', 'steps/0/send/base64: is not valid base64 (standard alphabet, padded) (the schema is in GET /openapi.json)'],
          ['base64 without padding', body({}, { send: { base64: 'YQ' } }), 400, 'invalid-body', 'steps/0/send/base64: is not valid base64 (standard alphabet, padded) (the schema is in GET /openapi.json)'],
          ['odd hex', body({}, { send: { hex: 'abc' } }), 400, 'invalid-body', 'steps/0/send/hex: is not valid hex (pairs of hex digits) (the schema is in GET /openapi.json)'],
          ['non-hex digits', body({}, { send: { hex: 'zz' } }), 400, 'invalid-body', 'steps/0/send/hex: is not valid hex (pairs of hex digits) (the schema is in GET /openapi.json)'],
          ['33 steps', body({ steps: Array.from({ length: 33 }, () => ({ send: { text: 'x' } })) }), 400, 'invalid-body', 'steps: has 33 items; give 1 to 32 (the schema is in GET /openapi.json)'],
          ['no steps', body({ steps: [] }), 400, 'invalid-body', 'steps: has 0 items; give 1 to 32 (the schema is in GET /openapi.json)'],
          ['steps not an array', body({ steps: { 0: {} } }), 400, 'invalid-body', 'steps: is an object; give an array (the schema is in GET /openapi.json)'],
          ['port as a string', body({ port: String(p) }), 400, 'invalid-body', `port: is the string "${p}"; give a whole number (the schema is in GET /openapi.json)`],
          ['port 0', body({ port: 0 }), 400, 'invalid-body', 'port: is 0; give 1 to 65535 (the schema is in GET /openapi.json)'],
          ['port 65536', body({ port: 65536 }), 400, 'invalid-body', 'port: is 65536; give 1 to 65535 (the schema is in GET /openapi.json)'],
          ['port 1.5', body({ port: 1.5 }), 400, 'invalid-body', 'port: is the number 1.5 (not whole); give a whole number (the schema is in GET /openapi.json)'],
          ['missing host', JSON.stringify({ port: p, steps: [{}] }), 400, 'invalid-body', 'the body: misses the required field "host" (the schema is in GET /openapi.json)'],
          ['CR/LF in host', body({ host: '127.0.0.1\r\nHost: evil' }), 400, 'invalid-host', 'host "127.0.0.1\\r\\nHost: evil" is not a valid host name or IP address (":" appears in IPv6 addresses only; give the port separately)'],
          ['loopback in decimal', body({ host: '2130706433' }), 403, 'destination-denied'],
          ['IPv4-mapped loopback', body({ host: '[::ffff:127.0.0.1]' }), 403, 'destination-denied'],
          ['cloud metadata', body({ host: '169.254.169.254', port: 80 }), 403, 'destination-denied'],
          ['empty until', body({}, { until: { text: '' } }), 400, 'invalid-body', 'steps/0/until/text: is empty; give 1 to 256 characters (the schema is in GET /openapi.json)'],
          ['empty until in base64', body({}, { until: { base64: '' } }), 400, 'invalid-body', 'steps/0/until/base64: is empty; give 4 to 344 characters (the schema is in GET /openapi.json)'],
          ['until of 257 characters', body({}, { until: { text: 'x'.repeat(257) } }), 400, 'invalid-body', 'steps/0/until/text: is 257 characters long; give 1 to 256 characters (the schema is in GET /openapi.json)'],
          ['until of 257 bytes in hex', body({}, { until: { hex: '0a'.repeat(257) } }), 400, 'invalid-body', 'steps/0/until/hex: is 514 characters long; give 2 to 512 characters (the schema is in GET /openapi.json)'],
          ['bytes 0', body({}, { bytes: 0 }), 400, 'invalid-body', 'steps/0/bytes: is 0; give at least 1 (the schema is in GET /openapi.json)'],
          ['bytes over MAX_REPLY_BYTES', body({}, { bytes: 65537 }), 400, 'invalid-parameter', 'steps/0/bytes is 65537; give a whole number of bytes from 1 to 65536 (the server\'s MAX_REPLY_BYTES)'],
          ['timeout_ms over REQUEST_DEADLINE_MS', body({ timeout_ms: DEADLINE_MS + 1 }), 400, 'invalid-parameter', 'timeout_ms is 2001; give a whole number of ms from 1 to 2000 (the server\'s REQUEST_DEADLINE_MS)'],
          ['sends over MAX_MESSAGE_BYTES in total', body({ steps: [{ send: { text: 'x'.repeat(600) } }, { send: { text: 'y'.repeat(600) } }] }), 413, 'message-too-large', 'steps/1/send brings the bytes to send to 1200; the limit for a whole dialogue is 1024 bytes (MAX_MESSAGE_BYTES)'],
          ['a body over its cap', body({ host: 'x'.repeat(70_000) }), 413, 'body-too-large', 'the body is 70056 bytes; the limit is 67584 bytes (twice MAX_MESSAGE_BYTES plus 64 KiB)'],
        ];
      };

      test('each hostile /tcp/exchange body gets its exact status and code, and no connection reaches the peer', async () => {
        const before = peers.echo.received.length;
        const answers = [];
        const expected = [];
        for (const [name, body, status, code, message] of jsonCases()) {
          const r = await getWith(strict.url, '/tcp/exchange', { method: 'POST', body, headers: { ...auth, 'content-type': 'application/json' } });
          answers.push({ name, status: r.status, code: r.code, ...(message !== undefined && { message: messageOf(r.text) }) });
          expected.push({ name, status, code, ...(message !== undefined && { message }) });
        }
        expect(answers).toEqual(expected);
        expect(peers.echo.received.length).toBe(before);
      });

      // POST /mcp: hostile JSON-RPC. The last column is the JSON-RPC error code, or the service error code.
      const mcpCases = (): [string, string, Record<string, string>, number, number | string][] => {
        const call = (args: unknown) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'tcp_exchange', arguments: args } });
        return [
          ['malformed JSON', '{"jsonrpc": "2.0", "id": 1,', {}, 400, -32700],
          ['an empty body', '', {}, 400, -32700],
          ['not UTF-8', '\xff', {}, 400, -32700],
          ['deeply nested', '['.repeat(60_000), {}, 400, -32700],
          ['an empty batch', '[]', {}, 400, -32600],
          ['a batch of non-messages', '[null, null]', {}, 400, -32600],
          ['a batch with one non-message', '[{"jsonrpc": "2.0", "id": 1, "method": "ping"}, 1]', {}, 400, -32600],
          ['a batch under 2025-06-18 (batches were removed)', '[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', { 'mcp-protocol-version': '2025-06-18' }, 400, -32600],
          ['a batch under 2025-11-25', '[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', { 'mcp-protocol-version': '2025-11-25' }, 400, -32600],
          ['not JSON-RPC 2.0', '{"jsonrpc": "1.0", "id": 1, "method": "ping"}', {}, 400, -32600],
          ['a string', '"ping"', {}, 400, -32600],
          ['an object id', '{"jsonrpc": "2.0", "id": {}, "method": "ping"}', {}, 400, -32600],
          ['params as an array', '{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": []}', {}, 400, -32600],
          ['an unknown method', '{"jsonrpc": "2.0", "id": 1, "method": "__proto__"}', {}, 200, -32601],
          ['an unknown tool', '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "constructor"}}', {}, 200, -32602],
          ['an unsupported MCP-Protocol-Version', '{"jsonrpc": "2.0", "id": 1, "method": "ping"}', { 'mcp-protocol-version': '1999-01-01' }, 400, -32022],
          ['a browser Origin', '{"jsonrpc": "2.0", "id": 1, "method": "ping"}', { origin: 'http://evil.example' }, 403, 'origin-denied'],
          ['Origin null', '{"jsonrpc": "2.0", "id": 1, "method": "ping"}', { origin: 'null' }, 403, 'origin-denied'],
          ['stateless _meta without capabilities', '{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}}', {}, 400, -32602],
          ['a body over its cap', call({ host: 'x'.repeat(70_000) }), {}, 413, 'body-too-large'],
        ];
      };

      test('each hostile /mcp request gets its exact status and error, and no connection reaches the peer', async () => {
        const before = peers.echo.received.length;
        for (const [name, body, headers, status, expected] of mcpCases()) {
          const r = await getWith(strict.url, '/mcp', { method: 'POST', body: body === '\xff' ? new Uint8Array([0xff]) : body, headers: { ...auth, 'content-type': 'application/json', ...headers } });
          const parsed = JSON.parse(r.text) as { error: { code: number | string } };
          expect({ name, status: r.status, error: parsed.error.code }).toEqual({ name, status, error: expected });
        }
        expect(peers.echo.received.length).toBe(before);
      });

      test('hostile tcp_exchange arguments are tool errors with the same codes as /tcp/exchange', async () => {
        const before = peers.echo.received.length;
        for (const [name, body, status, code] of jsonCases()) {
          if (status === 413 || typeof body !== 'string' || code === 'invalid-json') continue;
          const message = `{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "tcp_exchange", "arguments": ${body}}}`;
          const r = await getWith(strict.url, '/mcp', { method: 'POST', body: message, headers: { ...auth, 'content-type': 'application/json' } });
          const result = (JSON.parse(r.text) as { result: { isError: boolean; content: { text: string }[] } }).result;
          expect({ name, isError: result.isError, code: JSON.parse(result.content[0]!.text).error.code }).toEqual({ name, isError: true, code });
        }
        expect(peers.echo.received.length).toBe(before);
      });

      test('/tcp/exchange without the token is 401', async () => {
        const r = await getWith(strict.url, '/tcp/exchange', { method: 'POST', body: '{}' });
        expect([r.status, r.code]).toEqual([401, 'unauthorized']);
      });
    });

    describe('fault peers: documented status within the documented time, no socket left open', () => {
      type Reply = Awaited<ReturnType<typeof get>>;
      type Fault = {
        /** The peer, or undefined for the refused port (nothing listens there). */
        peer: () => Peer | undefined;
        port: () => number;
        status: number[];
        code: (string | undefined)[];
        withinMs: number;
        /** What else this peer's answer must show. */
        check?: (r: Reply) => void;
      };
      // A peer that closes before reading races the write: the write fails (reset) or lands and the read sees EOF.
      const faults: Record<string, Fault> = {
        refuses: { peer: () => undefined, port: () => refusedPort, status: [502], code: ['connection-refused'], withinMs: CONNECT_MS },
        'never answers': { peer: () => peers.silent, port: () => peers.silent.port, status: [504], code: ['read-timeout'], withinMs: DEADLINE_MS },
        'sends forever': {
          peer: () => peers.endless,
          port: () => peers.endless.port,
          status: [200],
          code: [undefined],
          withinMs: DEADLINE_MS,
          check: (r) => expect(r.headers.get('x-truncated')).toBe('true'),
        },
        'drips one byte every 100 ms': {
          peer: () => peers.drip,
          port: () => peers.drip.port,
          status: [200],
          code: [undefined],
          withinMs: DEADLINE_MS,
          check: (r) => {
            expect(r.headers.get('x-reply-end')).toBe('deadline');
            expect(r.text).toMatch(/^\.{5,}$/);
          },
        },
        'resets in the middle of a reply': { peer: () => peers.reset, port: () => peers.reset.port, status: [502], code: ['connection-reset'], withinMs: DEADLINE_MS },
        'closes before reading': {
          peer: () => peers.closeAtOnce,
          port: () => peers.closeAtOnce.port,
          status: [502, 200],
          code: ['connection-reset', undefined],
          withinMs: DEADLINE_MS,
          check: (r) => expect(r.status === 200 ? r.text : '').toBe(''),
        },
        'half-closes after answering': {
          peer: () => peers.halfClose,
          port: () => peers.halfClose.port,
          status: [200],
          code: [undefined],
          withinMs: DEADLINE_MS,
          check: (r) => expect(r.text).toBe('bye:hello'),
        },
      };
      test.each(Object.keys(faults))('a peer that %s', async (name) => {
        const fault = faults[name]!;
        const r = await get(lenient.url, `/tcp/send?host=127.0.0.1&port=${fault.port()}&msg=hello`);
        expect(fault.status).toContain(r.status);
        expect(fault.code).toContain(r.code);
        expect(r.ms).toBeLessThan(fault.withinMs + SLACK_MS);
        fault.check?.(r);
        const peer = fault.peer();
        if (peer) expect(await eventually(async () => (await peer.openConnections()) === 0), `${name}: the peer still holds a connection`).toBe(true);
      });
    });

    test('a bounded load-and-abuse run: 400 mixed requests at concurrency 20, every one answered exactly', { timeout: 180_000 }, async () => {
      const p = peers;
      type Case = { path: string; status: number; body?: (i: number) => string };
      const mix: ((i: number) => Case)[] = [
        (i) => ({ path: `/tcp/send?host=127.0.0.1&port=${p.echo.port}&msg=valid-${i}`, status: 200, body: () => `echo:valid-${i}` }),
        (i) => ({ path: `/tcp/send?host=127.0.0.1&port=${p.echoClose.port}&msg=close-${i}`, status: 200, body: () => `echo:close-${i}` }),
        () => ({ path: `/tcp/send?host=127.0.0.1&port=${p.keepOpen.port}&msg=PING%0D%0A`, status: 200, body: () => '+PONG\r\n' }),
        () => ({ path: `/?host=127.0.0.1&port=${web.port}`, status: 200 }),
        () => ({ path: '/health', status: 200, body: () => 'ok' }),
        () => ({ path: `/tcp/send?host=127.0.0.1&port=abc`, status: 400 }),
        () => ({ path: `/tcp/send?host=127.0.0.1%0D%0A&port=80`, status: 400 }),
        () => ({ path: `/tcp/send?host=127.0.0.1&port=80&msg=%zz`, status: 400 }),
        () => ({ path: `/tcp/send?host=127.0.0.1&port=80&msg=${'y'.repeat(2000)}`, status: 413 }),
        () => ({ path: '/nowhere', status: 404 }),
        () => ({ path: `/tcp/send?host=10.0.0.1&port=80`, status: 403 }),
        () => ({ path: `/tcp/send?host=169.254.169.254&port=80`, status: 403 }),
        () => ({ path: `/tcp/send?host=[::ffff:192.168.0.1]&port=80`, status: 403 }),
        () => ({ path: `/tcp/send?host=127.0.0.1&port=${refusedPort}`, status: 502 }),
        () => ({ path: `/tcp/send?host=127.0.0.1&port=${p.reset.port}&msg=x`, status: 502 }),
        () => ({ path: `/tcp/send?host=127.0.0.1&port=${p.endless.port}`, status: 200 }),
      ];
      // A few slow faults, not one in sixteen: each holds a worker for the whole deadline.
      const slow = [() => ({ path: `/tcp/send?host=127.0.0.1&port=${p.silent.port}&msg=x`, status: 504 })];
      const total = 400;
      const plan: Case[] = Array.from({ length: total }, (_, i) => (i % 40 === 7 ? slow[0]!() : mix[i % mix.length]!(i)));
      const baseline = kind.name.startsWith('local') ? openSocketCount(lenient.pid) : 0;
      let next = 0;
      const outcomes: string[] = [];
      const worker = async () => {
        while (next < plan.length) {
          const i = next++;
          const c = plan[i]!;
          const r = await get(lenient.url, c.path);
          if (r.status !== c.status) outcomes.push(`#${i} ${c.path.slice(0, 60)}: ${r.status} (expected ${c.status}) ${r.text.slice(0, 120)}`);
          else if (c.body && r.text !== c.body(i)) outcomes.push(`#${i}: body ${JSON.stringify(r.text.slice(0, 40))}, expected ${JSON.stringify(c.body(i))}`);
          else outcomes.push('ok');
        }
      };
      await Promise.all(Array.from({ length: 20 }, worker));
      expect(outcomes).toHaveLength(total);
      expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
      for (const [name, peer] of Object.entries(peers)) {
        expect(await eventually(async () => (await peer.openConnections()) === 0, 10_000), `${name} holds connections`).toBe(true);
      }
      if (kind.name.startsWith('local')) {
        // The dispatcher keeps one idle keep-alive connection per worker; leaks would be hundreds.
        expect(await eventually(async () => openSocketCount(lenient.pid) <= baseline + 20)).toBe(true);
      }
      expect((await get(lenient.url, '/health')).text).toBe('ok');
    });
  });
}
