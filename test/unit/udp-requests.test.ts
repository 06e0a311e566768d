// /udp/exchange and /udp/send through the whole app, over a scripted UDP network: what reaches the network, the
// caps refused before anything is sent, a caller's narrower reach, the audit line, and a host without UDP.

import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import type { DatagramStep, UdpNetwork } from '../../src/net/datagrams.js';
import { type SocketAddress, formatSocketAddress } from '../../src/net/ip.js';
import { Config, type Environment } from '../../src/settings/config.js';
import { fakeNetwork } from '../support/fake-network.js';

const TOKEN = 'token-of-the-udp-caller-0123';
const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/** A UDP network whose every peer sends each datagram back once; it records what it was asked. */
function echoNetwork() {
  const exchanges: { to: string; steps: readonly DatagramStep[] }[] = [];
  const udp: UdpNetwork = {
    exchange(to: SocketAddress, steps) {
      exchanges.push({ to: formatSocketAddress(to), steps });
      return { replies: steps.map((step) => ({ datagrams: step.send.map((bytes, i) => ({ bytes, atMs: i })), end: 'count' as const, ms: 1 })), ignored: 0 };
    },
  };
  return { udp, exchanges };
}

function appWith(env: Environment, udp?: UdpNetwork) {
  const config = new Config({ ALLOWED_TARGETS: '127.0.0.0/8:*', MAX_DATAGRAMS: '4', ...env });
  const lines: Record<string, unknown>[] = [];
  const app = createApp({ config: () => config, network: fakeNetwork({}).network, udp, writeAuditLine: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const call = async (path: string, init: RequestInit = {}) => {
    const response = await app(new Request(`http://component.local${path}`, init));
    const text = await response.text();
    return { status: response.status, text, headers: response.headers, error: response.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as { error?: { code: string; message: string } }).error : undefined };
  };
  const exchange = (body: unknown, headers: Record<string, string> = {}) => call('/udp/exchange', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  return { call, exchange, lines };
}

describe('POST /udp/exchange and GET /udp/send', () => {
  test('the datagrams reach the network in order, and the answer lists what came back, with the peer', async () => {
    const { udp, exchanges } = echoNetwork();
    const { exchange, lines } = appWith({}, udp);
    const r = await exchange({ host: '127.0.0.1', port: 53, steps: [{ send: [{ text: 'a' }, { hex: '00ff' }], count: 2 }, { send: [] }] });
    expect(r.status, r.text).toBe(200);
    expect(exchanges[0]!.to).toBe('127.0.0.1:53');
    expect(exchanges[0]!.steps.map((s) => s.collect)).toEqual([{ count: 2 }, { idleMs: 200 }]);
    expect(JSON.parse(r.text)).toMatchObject({ peer: '127.0.0.1:53', steps: [{ datagrams: [{ reply: { text: 'a' }, bytes: 1 }, { reply: { base64: 'AP8=' }, bytes: 2 }], end: 'count' }, { datagrams: [] }] });
    expect(lines.at(-1)).toMatchObject({ route: '/udp/exchange', protocol: 'udp', connected: '127.0.0.1:53', sent: 3, received: 3, datagrams_sent: 2, datagrams_received: 2, status: 200 });
  });

  test('GET /udp/send answers the first datagram, raw', async () => {
    const { udp } = echoNetwork();
    const r = await appWith({}, udp).call('/udp/send?host=127.0.0.1&port=53&msg=%00hi');
    expect([r.status, r.text, r.headers.get('x-peer-address'), r.headers.get('x-reply-end')]).toEqual([200, '\u0000hi', '127.0.0.1:53', 'count']);
  });

  test.each<[string, unknown, number, string, string]>([
    ['a datagram over 65,507 bytes', { send: [{ text: 'x'.repeat(65_508) }] }, 413, 'message-too-large', 'steps/0/send/0 is 65508 bytes; a UDP datagram holds at most 65507'],
    ['more datagrams than MAX_DATAGRAMS', { send: [1, 2, 3, 4, 5].map(() => ({ text: 'x' })) }, 413, 'message-too-large', 'steps/0/send/4 is datagram 5 to send; the limit for a whole exchange is 4 (MAX_DATAGRAMS)'],
    ['a count over MAX_DATAGRAMS', { send: [], count: 5 }, 400, 'invalid-parameter', "steps/0/count is 5; give a whole number of datagrams from 1 to 4 (the server's MAX_DATAGRAMS)"],
    ['a step with a field of TCP', { send: [], until: { text: 'x' } }, 400, 'invalid-body', 'steps/0: has an unknown field "until" (the fields are send, count and idle_ms)'],
  ])('%s is refused before anything is sent', async (_, step, status, code, message) => {
    const { udp, exchanges } = echoNetwork();
    const r = await appWith({ MAX_MESSAGE_BYTES: '1048576' }, udp).exchange({ host: '127.0.0.1', port: 53, steps: [step] });
    expect([r.status, r.error?.code]).toEqual([status, code]);
    expect(r.error?.message).toContain(message);
    expect(exchanges).toEqual([]);
  });

  test('GET /udp/send with no reply by the deadline is 504 read-timeout, naming the deadline and where it came from', async () => {
    const silent: UdpNetwork = { exchange: (_to, steps) => ({ replies: steps.map(() => ({ datagrams: [], end: 'deadline' as const, ms: 1 })), ignored: 0 }) };
    const { call } = appWith({ REQUEST_DEADLINE_MS: '1500' }, silent);
    const given = await call('/udp/send?host=127.0.0.1&port=53&msg=q&timeout_ms=300');
    expect([given.status, given.error?.code, given.error?.message]).toEqual([504, 'read-timeout', 'no datagram came back from 127.0.0.1:53 before the deadline of 300 ms (timeout_ms); is anything answering on UDP port 53?']);
    expect((await call('/udp/send?host=127.0.0.1&port=53&msg=q')).error?.message).toContain('before the deadline of 1500 ms (REQUEST_DEADLINE_MS)');
  });

  test('GET /udp/send without host or port is 400 missing-parameter, naming it with an example', async () => {
    const { call } = appWith({}, echoNetwork().udp);
    const noHost = await call('/udp/send?port=53');
    expect([noHost.status, noHost.error?.code, noHost.error?.message]).toEqual([400, 'missing-parameter', 'parameter "host" is required (for example host=127.0.0.1)']);
    expect((await call('/udp/send?host=127.0.0.1&port=')).error?.message).toBe('parameter "port" is required (for example port=53)');
  });

  test("a caller's allowed targets narrow UDP as they do TCP, naming the caller", async () => {
    const { udp, exchanges } = echoNetwork();
    const callers = JSON.stringify({ 'dns-bot': { token_sha256: digest(TOKEN), allowed_targets: '127.0.0.1:53' } });
    const { call } = appWith({ CALLERS: callers }, udp);
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
    expect((await call('/udp/send?host=127.0.0.1&port=53&msg=q', auth)).status).toBe(200);
    const denied = await call('/udp/send?host=127.0.0.2&port=53&msg=q', auth);
    expect([denied.status, denied.error?.code]).toEqual([403, 'destination-denied']);
    expect(denied.error?.message).toContain('outside caller "dns-bot"\'s allowed targets');
    expect(exchanges.map((e) => e.to)).toEqual(['127.0.0.1:53']);
  });

  test('a host that gives the component no UDP answers 502 network-unsupported', async () => {
    const r = await appWith({}).call('/udp/send?host=127.0.0.1&port=53&msg=q');
    expect([r.status, r.error?.code, r.error?.message]).toEqual([502, 'network-unsupported', 'this host gives the component no UDP']);
  });
});
