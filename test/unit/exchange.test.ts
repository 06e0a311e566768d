import { describe, expect, test } from 'vitest';
import { Config } from '../../src/settings/config.js';
import { ServiceError } from '../../src/core/errors.js';
import { SocketFault } from '../../src/net/faults.js';
import { encodeValue, runExchange } from '../../src/api/exchange.js';
import { RequestContext } from '../../src/api/context.js';
import type { TcpNetwork } from '../../src/net/dialogue.js';
import { transcriptOf } from '../../src/net/transcript.js';
import { bytesOf, fakeNetwork, reply } from '../support/fake-network.js';

const config = () => new Config({ ALLOWED_TARGETS: '127.0.0.0/8:*', MAX_MESSAGE_BYTES: '16' });

/** The context the app gives a POST /tcp/exchange, over a scripted network. */
const contextOn = async (network: TcpNetwork, settings: Config) => {
  const c = new RequestContext(new Request('http://component.local/tcp/exchange', { method: 'POST' }), { config: () => settings, network });
  await c.authenticate();
  return c;
};

describe('runExchange(body, context)', () => {
  test('decodes text, base64 and hex sends and passes each step with its read end', async () => {
    const { network, calls } = fakeNetwork({ peers: { '127.0.0.1:7': reply('ok', 'until') } });
    const c = await contextOn(network, config());
    const answer = runExchange(
      { host: '127.0.0.1', port: 7, timeout_ms: 100, steps: [{ send: { text: 'é' }, until: { hex: '0d0a' } }, { send: { base64: 'AP8=' }, bytes: 3 }, { send: { hex: 'ABcd' }, idle_ms: 5 }, {}] },
      c,
    );
    expect(calls[0]!.steps.map((s) => [...bytesOf(s.send)])).toEqual([[0xc3, 0xa9], [0, 0xff], [0xab, 0xcd], []]);
    expect(calls[0]!.steps.map((s) => s.read)).toEqual([{ until: new Uint8Array([13, 10]) }, { bytes: 3 }, { idleMs: 5 }, { idleMs: 200 }]);
    expect(calls[0]!.limits.deadlineMs).toBe(100);
    expect(answer).toMatchObject({ peer: '127.0.0.1:7', steps: [{ reply: { text: 'ok' }, end: 'until', bytes: 2 }, {}, {}, {}] });
  });

  test('a fault after connecting keeps the steps completed before it', async () => {
    const fault = new SocketFault('read', 'deadline');
    fault.replies = [reply('220 hi\r\n', 'until')];
    const { network } = fakeNetwork({ peers: { '127.0.0.1:7': fault } });
    const c = await contextOn(network, config());
    try {
      runExchange({ host: '127.0.0.1', port: 7, steps: [{}, {}] }, c);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ServiceError);
      expect((error as ServiceError).code).toBe('read-timeout');
      expect((error as ServiceError).extra).toEqual({ steps: [{ reply: { text: '220 hi\r\n' }, end: 'until', bytes: 8, ms: 1 }] });
      // The error that says more (its steps) still carries what the dialogue did.
      expect(transcriptOf(error)).toEqual({
        target: '127.0.0.1:7',
        tried: ['127.0.0.1:7'],
        connection: { address: '127.0.0.1:7', sent: 0, received: 8, ends: ['until'] },
        code: 'read-timeout',
      });
    }
  });

  test('the dialogue of issue 21: "tls" and a starttls step are refused for what they are, not as combined read ends', async () => {
    const { network } = fakeNetwork({});
    const c = await contextOn(network, config());
    expect(() => runExchange({ host: '127.0.0.1', port: 9, tls: true, steps: [{ starttls: true }] }, c)).toThrow(
      new ServiceError('invalid-body', 'steps/0/starttls: the dialogue already starts with TLS ("tls"); TLS starts once per connection (the schema is in GET /openapi.json)'),
    );
  });

  test('a starttls step that sends nothing and gives no read end reads nothing; any read end or send, or implicit TLS, reads as usual', async () => {
    const { network, calls } = fakeNetwork({ peers: { '127.0.0.1:7': reply('ok', 'until') } });
    const c = await contextOn(network, config());
    const line = { until: { text: '\r\n' } };
    const run = (steps: object[], tls?: boolean) => {
      runExchange({ host: '127.0.0.1', port: 7, ...(tls && { tls }), steps }, c);
      return calls.at(-1)!.steps.map((s) => s.read);
    };
    expect(run([line, { send: { text: 'STARTTLS' }, ...line }, { starttls: true }, { send: { text: 'EHLO' }, ...line }])[2]).toEqual({ none: true });
    expect(run([{ starttls: true, send: { text: '' } }])).toEqual([{ none: true }]);
    expect(run([{ starttls: true, send: { text: 'EHLO me\r\n' } }])).toEqual([{ idleMs: 200 }]);
    expect(run([{ starttls: true, ...line }])).toEqual([{ until: new Uint8Array([13, 10]) }]);
    expect(run([{ starttls: { server_name: 'mail.example' }, idle_ms: 5 }])).toEqual([{ idleMs: 5 }]);
    // Implicit TLS: a server that speaks first (SMTPS) sends its greeting right after the handshake.
    expect(run([{}], true)).toEqual([{ idleMs: 200 }]);
  });

  test('read ends may be combined in one step: until, bytes and idle_ms together are taken', async () => {
    const { network, calls } = fakeNetwork({ peers: { '127.0.0.1:7': reply('ok', 'until') } });
    const c = await contextOn(network, config());
    runExchange({ host: '127.0.0.1', port: 7, steps: [{ until: { text: '\n' }, bytes: 4, idle_ms: 5 }] }, c);
    expect(calls[0]!.steps[0]!.read).toEqual({ until: new Uint8Array([10]), bytes: 4, idleMs: 5 });
  });

  const SCHEMA = ' (the schema is in GET /openapi.json)';
  const body = (fields: object, step: object = {}) => ({ host: '127.0.0.1', port: 7, steps: [step], ...fields });
  test.each([
    [body({}, { send: { hex: 'zz' } }), 'invalid-body', 'steps/0/send/hex: is not valid hex (pairs of hex digits)'],
    [body({}, { send: { hex: 'abc' } }), 'invalid-body', 'steps/0/send/hex: is not valid hex (pairs of hex digits)'],
    [body({}, { send: { base64: 'YQ' } }), 'invalid-body', 'steps/0/send/base64: is not valid base64 (standard alphabet, padded)'],
    [body({}, { send: { text: 'a', hex: '61' } }), 'invalid-body', 'steps/0/send: gives text and hex; give exactly one of text, base64 and hex'],
    [body({}, { send: {} }), 'invalid-body', 'steps/0/send: gives none; give exactly one of text, base64 and hex'],
    [body({}, { send: 'hi' }), 'invalid-body', 'steps/0/send: is the string "hi"; give an object with one of text, base64 or hex, or a list of parts'],
    [body({}, { send: { text: 5 } }), 'invalid-body', 'steps/0/send/text: is the number 5; give a string'],
    [body({}, { send: { text: 'x', utf16: 'x' } }), 'invalid-body', 'steps/0/send: has an unknown field "utf16" (the fields are text, base64 and hex)'],
    [body({}, { until: { base64: '' } }), 'invalid-body', 'steps/0/until/base64: is empty; give 4 to 344 characters'],
    [body({}, { until: { base64: 'a' } }), 'invalid-body', 'steps/0/until/base64: is 1 character long; give 4 to 344 characters; is not valid base64 (standard alphabet, padded)'],
    [body({}, { until: { text: '' } }), 'invalid-body', 'steps/0/until/text: is empty; give 1 to 256 characters'],
    [body({}, { until: { text: 'x'.repeat(257) } }), 'invalid-body', 'steps/0/until/text: is 257 characters long; give 1 to 256 characters'],
    [body({}, { until: { hex: '00'.repeat(257) } }), 'invalid-body', 'steps/0/until/hex: is 514 characters long; give 2 to 512 characters'],
    [body({}, { bytes: 0 }), 'invalid-body', 'steps/0/bytes: is 0; give at least 1'],
    [body({}, { idle_ms: 'x' }), 'invalid-body', 'steps/0/idle_ms: is the string "x"; give a whole number'],
    [body({}, { wait: 1 }), 'invalid-body', 'steps/0: has an unknown field "wait" (the fields are starttls, send, until, bytes and idle_ms)'],
    [body({ steps: [] }), 'invalid-body', 'steps: has 0 items; give 1 to 32'],
    [body({ steps: Array.from({ length: 33 }, () => ({})) }), 'invalid-body', 'steps: has 33 items; give 1 to 32'],
    [body({ steps: {} }), 'invalid-body', 'steps: is an object; give an array'],
    [body({ steps: [{}, 'x'] }), 'invalid-body', 'steps/1: is the string "x"; give an object with starttls, send, until, bytes and idle_ms'],
    [body({ port: '80' }), 'invalid-body', 'port: is the string "80"; give a whole number'],
    [body({ port: 0 }), 'invalid-body', 'port: is 0; give 1 to 65535'],
    [body({ port: 65536 }), 'invalid-body', 'port: is 65536; give 1 to 65535'],
    [body({ port: 1.5 }), 'invalid-body', 'port: is the number 1.5 (not whole); give a whole number'],
    [body({ host: 5 }), 'invalid-body', 'host: is the number 5; give a string'],
    [body({ host: '' }), 'invalid-body', 'host: is empty; give 1 to 300 characters'],
    [body({ timeout_ms: -1 }), 'invalid-body', 'timeout_ms: is -1; give at least 1'],
    [body({ extra: 1 }), 'invalid-body', 'the body: has an unknown field "extra" (the fields are host, port, tls, timeout_ms and steps)'],
    [{ port: 7, steps: [{}] }, 'invalid-body', 'the body: misses the required field "host"'],
    [{}, 'invalid-body', 'the body: misses the required fields "host", "port" and "steps"'],
    [[], 'invalid-body', 'the body: is an array; give an object with host, port, tls, timeout_ms and steps'],
    [null, 'invalid-body', 'the body: is null; give an object with host, port, tls, timeout_ms and steps'],
    [body({ host: 5, port: 0 }), 'invalid-body', 'host: is the number 5; give a string'],
  ])('%j is refused: %s, %s', async (input, code, message) => {
    const { network, calls } = fakeNetwork({});
    const c = await contextOn(network, config());
    expect(() => runExchange(input, c)).toThrow(new ServiceError(code as 'invalid-body', `${message}${SCHEMA}`));
    expect(calls).toEqual([]);
  });

  test.each([
    [body({ host: 'a b' }), 'invalid-host', 'host "a b" is not a valid host name (letters, digits, "-" and "_" in dot-separated labels) or IP address'],
    [body({ host: 'foo.123' }), 'invalid-host', 'host "foo.123" looks like an IPv4 address but is not a valid one'],
    [body({ host: 'fe80::1%eth0' }), 'invalid-host', 'host "fe80::1%eth0" has an IPv6 zone id; zone ids are not supported, use a global address'],
    [body({}, { send: { text: 'x'.repeat(17) } }), 'message-too-large', 'steps/0/send brings the bytes to send to 17; the limit for a whole dialogue is 16 bytes (MAX_MESSAGE_BYTES)'],
    [body({}, { bytes: 1e9 }), 'invalid-parameter', "steps/0/bytes is 1000000000; give a whole number of bytes from 1 to 1048576 (the server's MAX_REPLY_BYTES)"],
    [body({ timeout_ms: 1e9 }), 'invalid-parameter', "timeout_ms is 1000000000; give a whole number of ms from 1 to 30000 (the server's REQUEST_DEADLINE_MS)"],
  ])('%j is refused by the parser or the limits: %s, %s', async (input, code, message) => {
    const { network, calls } = fakeNetwork({});
    const c = await contextOn(network, config());
    expect(() => runExchange(input, c)).toThrow(new ServiceError(code as 'invalid-host', message));
    expect(calls).toEqual([]);
  });
});

describe('encodeValue(bytes)', () => {
  test.each([
    [[0x68, 0x69], { text: 'hi' }],
    [[0xef, 0xbb, 0xbf, 0x61], { text: '\ufeffa' }],
    [[0xff, 0x00], { base64: '/wA=' }],
    [[0xc0, 0xaf], { base64: 'wK8=' }],
    [[], { text: '' }],
  ])('%j → %j', (bytes, expected) => expect(encodeValue(new Uint8Array(bytes))).toEqual(expected));
});
