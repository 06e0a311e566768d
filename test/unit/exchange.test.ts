import { describe, expect, test } from 'vitest';
import { Config } from '../../src/settings/config.js';
import { ServiceError } from '../../src/core/errors.js';
import { SocketFault } from '../../src/net/faults.js';
import { encodeValue, runExchange } from '../../src/api/exchange.js';
import { fakeNetwork, reply } from '../support/fake-network.js';

const config = () => new Config({ ALLOWED_TARGETS: '127.0.0.0/8:*', MAX_MESSAGE_BYTES: '16' });

describe('runExchange(body, network, config)', () => {
  test('decodes text, base64 and hex sends and passes each step with its read end', () => {
    const { network, calls } = fakeNetwork({ peers: { '127.0.0.1:7': reply('ok', 'until') } });
    const answer = runExchange(
      { host: '127.0.0.1', port: 7, timeout_ms: 100, steps: [{ send: { text: 'é' }, until: { hex: '0d0a' } }, { send: { base64: 'AP8=' }, bytes: 3 }, { send: { hex: 'ABcd' }, idle_ms: 5 }, {}] },
      network,
      config(),
    );
    expect(calls[0]!.steps.map((s) => [...s.send])).toEqual([[0xc3, 0xa9], [0, 0xff], [0xab, 0xcd], []]);
    expect(calls[0]!.steps.map((s) => s.read)).toEqual([{ until: new Uint8Array([13, 10]) }, { bytes: 3 }, { idleMs: 5 }, { idleMs: 200 }]);
    expect(calls[0]!.limits.deadlineMs).toBe(100);
    expect(answer).toMatchObject({ peer: '127.0.0.1:7', steps: [{ reply: { text: 'ok' }, end: 'until', bytes: 2 }, {}, {}, {}] });
  });

  test('a fault after connecting keeps the steps completed before it', () => {
    const fault = new SocketFault('read', 'deadline');
    fault.replies = [reply('220 hi\r\n', 'until')];
    const { network } = fakeNetwork({ peers: { '127.0.0.1:7': fault } });
    try {
      runExchange({ host: '127.0.0.1', port: 7, steps: [{}, {}] }, network, config());
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ServiceError);
      expect((error as ServiceError).code).toBe('read-timeout');
      expect((error as ServiceError).extra).toEqual({ steps: [{ reply: { text: '220 hi\r\n' }, end: 'until', bytes: 8, ms: 1 }] });
    }
  });

  test.each([
    [{ host: '127.0.0.1', port: 7, steps: [{ send: { hex: 'zz' } }] }, 'steps/0/send/hex: is not valid hex'],
    [{ host: '127.0.0.1', port: 7, steps: [{ send: { text: 'a', hex: '61' } }] }, 'steps/0/send: must have exactly one of text, base64 and hex'],
    [{ host: '127.0.0.1', port: 7, steps: [], extra: 1 }, 'unknown field extra'],
    [{ host: '127.0.0.1', port: 7, steps: [{ until: { base64: '' } }] }, 'steps/0/until/base64'],
    [{ host: '127.0.0.1', port: 7, steps: [{ until: { text: 'x'.repeat(257) } }] }, 'steps/0/until/text'],
    [{ host: '127.0.0.1', port: 7, steps: [{ until: { hex: '00'.repeat(257) } }] }, 'steps/0/until/hex'],
    [{ host: '127.0.0.1', port: 7, steps: [{ send: { text: 'x'.repeat(17) } }] }, 'steps/0/send brings the bytes to send to 17'],
  ])('%j is refused: %s', (body, message) => {
    const { network, calls } = fakeNetwork({});
    expect(() => runExchange(body, network, config())).toThrow(message);
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
