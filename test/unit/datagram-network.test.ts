// A dialogue of datagrams on a virtual clock: each step's sends, then collecting until its count, its quiet
// gap, the deadline or a cap of the whole dialogue; datagrams from elsewhere dropped; every resource released.

import { describe, expect, test } from 'vitest';
import type { Resources } from '../../src/core/resources.js';
import { DatagramFault, datagramNetwork } from '../../src/net/datagram-network.js';
import type { DatagramChannel, DatagramStep, IncomingDatagram } from '../../src/net/datagrams.js';
import { SocketFault } from '../../src/net/faults.js';
import type { SocketAddress } from '../../src/net/ip.js';
import { fakePollHost } from '../support/fake-poll.js';

const TO: SocketAddress = { address: { tag: 'ipv4', val: [192, 0, 2, 53] }, port: 53 };
const ELSEWHERE: SocketAddress = { address: { tag: 'ipv4', val: [192, 0, 2, 53] }, port: 5353 };
const text = (s: string) => new TextEncoder().encode(s);
const LIMITS = { deadlineMs: 1_000, maxReplyBytes: 1_000, maxDatagrams: 10 };

/** A datagram the peer sends at `atMs`, from the address sent to unless `from` says otherwise. */
interface Arrival {
  atMs: number;
  data: string;
  from?: SocketAddress;
}

/**
 * A host whose socket delivers `arrivals` on the virtual clock; `alwaysReady` makes its readable pollable ready
 * with nothing to receive (preview2-shim after an error it does not report); `sendFault` fails the nth send.
 */
function fakeDatagramHost(
  arrivals: Arrival[],
  { alwaysReady = false, sendFault, firstSendsNone = 0 }: { alwaysReady?: boolean; sendFault?: { at: number; code: 'datagram-too-large' | 'connection-refused' }; firstSendsNone?: number } = {},
) {
  let unsent = firstSendsNone;
  const host = fakePollHost();
  const sent: string[] = [];
  let delivered = 0;
  let receives = 0;
  let opened = 0;
  let released = 0;
  const due = () => arrivals.filter((a, i) => i >= delivered && a.atMs <= host.nowMs()).length;
  const pollable = (readyAt: () => bigint | undefined) => {
    const made = host.subscribeDuration(0n);
    Object.defineProperty(made, 'readyAt', { value: readyAt });
    return made;
  };
  const open = (to: SocketAddress, resources: Resources): DatagramChannel<ReturnType<typeof host.subscribeDuration>> => {
    opened++;
    resources.hold({ [Symbol.dispose]: () => void released++ });
    expect(to).toEqual(TO);
    return {
      sendPermits: () => 1,
      send(datagrams) {
        if (sendFault && sent.length + 1 === sendFault.at) throw new SocketFault('write', sendFault.code);
        if (unsent-- > 0) return 0;
        sent.push(...datagrams.map((d) => new TextDecoder().decode(d)));
        return datagrams.length;
      },
      receive(max): IncomingDatagram[] {
        receives++;
        const ready = arrivals.slice(delivered, delivered + Math.min(max, due()));
        delivered += ready.length;
        return ready.map((a) => ({ data: text(a.data), from: a.from ?? TO }));
      },
      readable: () => pollable(() => (alwaysReady ? host.now() : arrivals[delivered] ? BigInt(arrivals[delivered]!.atMs) * 1_000_000n : undefined)),
      writable: () => pollable(() => host.now()),
    };
  };
  return { host, datagrams: { poll: host, open }, sent, receives: () => receives, resources: () => ({ opened, released }) };
}

function run(fake: ReturnType<typeof fakeDatagramHost>, steps: DatagramStep[], limits = LIMITS) {
  const network = datagramNetwork(fake.datagrams);
  try {
    const { replies, ignored } = network.exchange(TO, steps, limits);
    return { replies: replies.map((r) => ({ end: r.end, data: r.datagrams.map((d) => new TextDecoder().decode(d.bytes)), atMs: r.datagrams.map((d) => d.atMs) })), ignored, atMs: fake.host.nowMs() };
  } catch (error) {
    if (!(error instanceof DatagramFault)) throw error;
    return { fault: `${error.fault.stage}: ${error.fault.code}`, before: error.replies.length, atMs: fake.host.nowMs() };
  } finally {
    expect(fake.host.created.filter((p) => !p.disposed)).toHaveLength(0);
    expect(fake.resources().released).toBe(fake.resources().opened);
  }
}

const step = (send: string[], collect: DatagramStep['collect']): DatagramStep => ({ send: send.map(text), collect });

describe('datagramNetwork(host).exchange(to, steps, limits)', () => {
  test('each step sends its datagrams, then collects until its count; arrival times are from the start of the step', () => {
    const fake = fakeDatagramHost([
      { atMs: 5, data: 'a' },
      { atMs: 9, data: 'b' },
      { atMs: 20, data: 'c' },
    ]);
    const got = run(fake, [step(['q1', 'q2'], { count: 2 }), step(['q3'], { count: 1 })]);
    expect(fake.sent).toEqual(['q1', 'q2', 'q3']);
    expect(got).toEqual({ replies: [{ end: 'count', data: ['a', 'b'], atMs: [5, 9] }, { end: 'count', data: ['c'], atMs: [11] }], ignored: 0, atMs: 20 });
  });

  test('the quiet gap runs from the send, then from each datagram', () => {
    const got = run(fakeDatagramHost([{ atMs: 30, data: 'a' }, { atMs: 70, data: 'b' }]), [step(['q'], { idleMs: 50 })]);
    expect(got).toEqual({ replies: [{ end: 'idle', data: ['a', 'b'], atMs: [30, 70] }], ignored: 0, atMs: 120 });
    expect(run(fakeDatagramHost([{ atMs: 80, data: 'late' }]), [step(['q'], { idleMs: 50 })])).toMatchObject({ replies: [{ end: 'idle', data: [] }], atMs: 50 });
  });

  test('the deadline ends collecting and the dialogue: later steps do not run', () => {
    const fake = fakeDatagramHost([{ atMs: 10, data: 'a' }]);
    const got = run(fake, [step(['q1'], { count: 5 }), step(['q2'], { count: 1 })], { ...LIMITS, deadlineMs: 300 });
    expect(got).toEqual({ replies: [{ end: 'deadline', data: ['a'], atMs: [10] }], ignored: 0, atMs: 300 });
    expect(fake.sent).toEqual(['q1']);
  });

  test('a flood stops at maxDatagrams received across steps (limit), and a datagram past maxReplyBytes is cut there', () => {
    const flood = Array.from({ length: 30 }, (_, i) => ({ atMs: 1, data: `d${i}` }));
    expect(run(fakeDatagramHost(flood), [step(['go'], { count: 2 }), step([], { idleMs: 100 })], { ...LIMITS, maxDatagrams: 5 })).toMatchObject({
      replies: [{ end: 'count', data: ['d0', 'd1'] }, { end: 'limit', data: ['d2', 'd3', 'd4'] }],
    });
    expect(run(fakeDatagramHost([{ atMs: 1, data: 'abcdef' }, { atMs: 2, data: 'ghij' }]), [step(['q'], { count: 2 })], { ...LIMITS, maxReplyBytes: 8 })).toMatchObject({
      replies: [{ end: 'limit', data: ['abcdef', 'gh'] }],
    });
  });

  test('a datagram from another address is dropped and counted, never returned', () => {
    const got = run(fakeDatagramHost([{ atMs: 2, data: 'spoofed', from: ELSEWHERE }, { atMs: 4, data: 'real' }]), [step(['q'], { count: 1 })]);
    expect(got).toEqual({ replies: [{ end: 'count', data: ['real'], atMs: [4] }], ignored: 1, atMs: 4 });
  });

  test('a socket always ready with nothing to receive ends at the deadline without spinning', () => {
    const fake = fakeDatagramHost([], { alwaysReady: true });
    expect(run(fake, [step(['q'], { count: 1 })], { ...LIMITS, deadlineMs: 100 })).toMatchObject({ replies: [{ end: 'deadline', data: [] }], atMs: 100 });
    // One look after the first wake-up, then one every 5 ms: about 20 in 100 ms, not one per spin.
    expect(fake.receives()).toBeLessThanOrEqual(100 / 5 + 3);
  });

  test('a send the host takes none of (wasmtime 36, a fresh socket) is sent again once the socket is writable', () => {
    const fake = fakeDatagramHost([{ atMs: 1, data: 'a' }], { firstSendsNone: 2 });
    expect(run(fake, [step(['q'], { count: 1 })])).toMatchObject({ replies: [{ end: 'count', data: ['a'] }] });
    expect(fake.sent).toEqual(['q']);
  });

  test('a send that fails is a fault carrying the replies of the steps before it', () => {
    const fake = fakeDatagramHost([{ atMs: 1, data: 'a' }], { sendFault: { at: 2, code: 'datagram-too-large' } });
    expect(run(fake, [step(['q1'], { count: 1 }), step(['q2'], { count: 1 })])).toEqual({ fault: 'write: datagram-too-large', before: 1, atMs: 1 });
  });
});
