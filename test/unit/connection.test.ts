// One connection on a virtual clock: the connect wait (per-address timeout, request deadline), writes in
// chunks with a deadline on every wait, and the steps of a dialogue — each at the exact time it must end.

import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { SecretMessage } from '../../src/net/secrets.js';
import { Resources } from '../../src/core/resources.js';
import { Connection, awaitConnect, runSteps, timer, writeWithDeadline } from '../../src/net/connection.js';
import { SocketFault, type WasiSocketErrorCode } from '../../src/net/faults.js';
import type { SocketAddress } from '../../src/net/ip.js';
import { socketNetwork } from '../../src/net/socket-network.js';
import type { Step } from '../../src/net/dialogue.js';
import { type FakePeer, type PeerEvent, type PeerReading, fakeConnectingSocket, fakeInput, fakeOutput, fakePollHost, fakeSocketHost } from '../support/fake-poll.js';

const text = (s: string) => new TextEncoder().encode(s);
const disposable = <T extends object>(value: T) => Object.assign(value, { [Symbol.dispose]() {} });

/** What a run ended with: the replies, or the fault's stage and code; and when. */
function outcome(run: () => unknown, host: ReturnType<typeof fakePollHost>) {
  try {
    return { result: run(), atMs: host.nowMs() };
  } catch (error) {
    if (!(error instanceof SocketFault)) throw error;
    return { fault: `${error.stage}: ${error.code}`, atMs: host.nowMs(), replies: error.replies.map((r) => new TextDecoder().decode(r.bytes)) };
  }
}

describe('awaitConnect(host, resources, socket, limits, deadline)', () => {
  type Case = [name: string, connectedAtMs: number | undefined, limits: { connectTimeoutMs: number; deadlineMs: number }, expected: { fault?: string; atMs: number }, error?: WasiSocketErrorCode];
  const CASES: Case[] = [
    ['a connect that finishes in time gives the streams, when it finishes', 7, { connectTimeoutMs: 100, deadlineMs: 1000 }, { atMs: 7 }],
    ["an address that does not answer ends at its own connect timeout, leaving time for the next address", undefined, { connectTimeoutMs: 100, deadlineMs: 1000 }, { fault: 'connect: deadline', atMs: 100 }],
    ['the request deadline ends the wait when it is nearer than the connect timeout', undefined, { connectTimeoutMs: 5000, deadlineMs: 300 }, { fault: 'connect: deadline', atMs: 300 }],
    ['a refused connect is the WASI code, when it is known', 12, { connectTimeoutMs: 100, deadlineMs: 1000 }, { fault: 'connect: connection-refused', atMs: 12 }, 'connection-refused'],
    ['a connect finishing after the timeout is a timeout, not a connection', 150, { connectTimeoutMs: 100, deadlineMs: 1000 }, { fault: 'connect: deadline', atMs: 100 }],
  ];
  test.each(CASES)('%s', (_, connectedAtMs, limits, expected, error) => {
    const host = fakePollHost();
    const streams = () => [disposable({ side: 'in' }), disposable({ side: 'out' })] as [Disposable, Disposable];
    const socket = fakeConnectingSocket(host, connectedAtMs, streams, error);
    let got;
    {
      using resources = new Resources();
      const deadline = resources.hold(timer(host, limits.deadlineMs));
      got = outcome(() => awaitConnect(host, resources, socket, limits, deadline), host);
    }
    expect({ fault: got.fault, atMs: got.atMs }).toEqual({ fault: expected.fault, atMs: expected.atMs });
    if (!expected.fault) expect(got.result).toHaveLength(2);
    expect(host.created.filter((p) => !p.disposed)).toHaveLength(0);
  });
});

describe('writeWithDeadline(host, output, ready, message, deadline)', () => {
  type Case = [name: string, size: number, reading: PeerReading, deadlineMs: number, expected: { fault?: string; atMs: number; writes?: number[] }];
  const CASES: Case[] = [
    ['a message that fits is one write', 10, { bufferBytes: 4096 }, 1000, { atMs: 0, writes: [10] }],
    ['a message larger than the room is written as the peer makes room', 10_000, { bufferBytes: 4096, bytesPerMs: 1000 }, 1000, { atMs: 6, writes: [4096, 1000, 1000, 1000, 1000, 1000, 904] }],
    ['a small write to a peer that stopped reading (full buffer) ends at the deadline', 10, { bufferBytes: 4096, untilMs: 0 }, 500, { fault: 'write: deadline', atMs: 500 }],
    ['a peer that closes while the message is written: the write fails as reset', 10_000, { bufferBytes: 4096, bytesPerMs: 0, closedAtMs: 40 }, 1000, { fault: 'write: connection-reset', atMs: 40 }],
  ];
  test.each(CASES)('%s', (_, size, reading, deadlineMs, expected) => {
    const host = fakePollHost();
    const output = fakeOutput(host, reading);
    // A full buffer: what a peer that stopped reading leaves behind earlier sends.
    if (reading.untilMs === 0) output.write(new Uint8Array(reading.bufferBytes));
    output.written.length = 0;
    let got;
    {
      using resources = new Resources();
      const deadline = resources.hold(timer(host, deadlineMs));
      const ready = resources.hold(output.subscribe());
      got = outcome(() => writeWithDeadline(host, output, ready, new Uint8Array(size), deadline), host);
    }
    expect({ fault: got.fault, atMs: got.atMs }).toEqual({ fault: expected.fault, atMs: expected.atMs });
    if (expected.writes) expect(output.written).toEqual(expected.writes);
    if (!expected.fault) expect(output.sent()).toBe(size);
  });
});

describe('runSteps(connection, steps, limits)', () => {
  const send = (s: string, until = '\n'): Step => ({ send: text(s), read: { until: text(until) } });
  type Case = [name: string, events: PeerEvent[], reading: PeerReading, steps: Step[], deadlineMs: number, expected: { replies?: string[]; fault?: string; atMs: number }];
  const CASES: Case[] = [
    ['each step sends, then reads its reply', [{ atMs: 5, send: 'a\n' }, { atMs: 9, send: 'b\n' }], { bufferBytes: 4096 }, [send('1'), send('2')], 1000, { replies: ['a\n', 'b\n'], atMs: 9 }],
    [
      'a peer that stops reading while the dialogue keeps sending: the small write that no longer fits ends at the deadline',
      [{ atMs: 1, send: 'ok\n' }, { atMs: 2, send: 'ok\n' }, { atMs: 3, send: 'ok\n' }],
      { bufferBytes: 20, untilMs: 0 },
      [send('12345678'), send('12345678'), send('12345678'), send('12345678')],
      800,
      { fault: 'write: deadline', atMs: 800, replies: ['ok\n', 'ok\n'] },
    ],
    ['a step that ends on the deadline ends the dialogue', [{ atMs: 1, send: 'partial' }], { bufferBytes: 4096 }, [send('1'), send('2')], 300, { replies: ['partial'], atMs: 300 }],
    ['a step that reaches the byte cap ends the dialogue', [{ atMs: 1, send: 'abcdefghij\n' }], { bufferBytes: 4096 }, [send('1'), send('2')], 1000, { replies: ['abcde'], atMs: 1 }],
  ];
  test.each(CASES)('%s', (_, events, reading, steps, deadlineMs, expected) => {
    const host = fakePollHost();
    const input = fakeInput(host, events);
    const output = fakeOutput(host, reading);
    let got;
    {
      using resources = new Resources();
      const deadline = resources.hold(timer(host, deadlineMs));
      const connection = new Connection({ host, resources, deadline, streams: { input, output } });
      got = outcome(() => runSteps(connection, steps, { maxReplyBytes: expected.replies?.[0] === 'abcde' ? 5 : 1_000_000 }), host);
    }
    const replies = got.replies ?? (got.result as { bytes: Uint8Array }[]).map((r) => new TextDecoder().decode(r.bytes));
    expect({ fault: got.fault, atMs: got.atMs, replies }).toEqual({ fault: expected.fault, atMs: expected.atMs, replies: expected.replies });
    expect(host.created.filter((p) => !p.disposed)).toHaveLength(0);
  });
});

describe('runSteps: what a step sends', () => {
  test('bytes from another realm are sent as bytes; a message holding a secret is put together as it is written, then wiped', () => {
    const host = fakePollHost();
    const input = fakeInput(host, [{ atMs: 1, send: 'a\n' }, { atMs: 2, send: 'b\n' }]);
    const output = fakeOutput(host, { bufferBytes: 4096 });
    const given: Uint8Array[] = [];
    const asWritten: string[] = [];
    const write = output.write;
    output.write = (bytes) => {
      given.push(bytes);
      asWritten.push(new TextDecoder().decode(bytes));
      write(bytes);
    };
    // StarlingMonkey hands a request body's chunks over from a realm of its own: `instanceof Uint8Array` is false there.
    const foreign = runInNewContext('new Uint8Array([104, 105])') as Uint8Array;
    expect(foreign instanceof Uint8Array).toBe(false);
    const secret = { name: 'S', value: text('secret-value'), destinations: [], requireTls: false };
    const steps: Step[] = [
      { send: foreign, read: { until: text('\n') } },
      { send: new SecretMessage([text('AUTH '), secret]), read: { until: text('\n') } },
    ];
    {
      using resources = new Resources();
      const deadline = resources.hold(timer(host, 1000));
      runSteps(new Connection({ host, resources, deadline, streams: { input, output } }), steps, { maxReplyBytes: 1000 });
    }
    expect(asWritten).toEqual(['hi', 'AUTH secret-value']);
    expect([...given[1]!].every((byte) => byte === 0)).toBe(true);
    expect(new TextDecoder().decode(secret.value)).toBe('secret-value');
  });
});

describe('socketNetwork(host).converse(to, steps, limits): the dialogue on the host\'s primitives', () => {
  const line = (s: string): Step => ({ send: text(s), read: { until: text('\n') } });
  const LIMITS = { connectTimeoutMs: 100, deadlineMs: 1_000, maxReplyBytes: 1_000 };
  const PEER = '192.0.2.7:25';
  const to: SocketAddress = { address: { tag: 'ipv4', val: [192, 0, 2, 7] }, port: 25 };
  type Case = [name: string, peer: FakePeer | undefined, expected: { replies?: string[]; ms?: number[]; fault?: string; atMs: number }];
  const CASES: Case[] = [
    [
      'connects, runs each step on the one connection, and times each step on the host\'s clock',
      { connectedAtMs: 4, events: [{ atMs: 10, send: '220 ready\n' }, { atMs: 25, send: '250 ok\n' }] },
      { replies: ['220 ready\n', '250 ok\n'], ms: [6, 15], atMs: 25 },
    ],
    ['an address that refuses: the connect fault, when the host reports it', undefined, { fault: 'connect: connection-refused', atMs: 1 }],
    ['an address that never answers ends at the connect timeout', {}, { fault: 'connect: deadline', atMs: 100 }],
    ['a peer that closes before its reply: the step ends as closed', { connectedAtMs: 1, events: [{ atMs: 3, close: true }] }, { replies: [''], ms: [2], atMs: 3 }],
  ];
  test.each(CASES)('%s', (_, peer, expected) => {
    const fake = fakeSocketHost({ peers: peer ? { [PEER]: peer } : {} });
    const network = socketNetwork(fake.sockets);
    const got = outcome(() => network.converse(to, [line(''), line('EHLO x\n')].slice(0, expected.replies?.length ?? 1), LIMITS), fake.host);
    const replies = got.replies ?? (got.result as { bytes: Uint8Array }[]).map((r) => new TextDecoder().decode(r.bytes));
    expect({ fault: got.fault, atMs: got.atMs, replies: got.fault ? undefined : replies }).toEqual({ fault: expected.fault, atMs: expected.atMs, replies: expected.replies });
    if (expected.ms) expect((got.result as { ms: number }[]).map((r) => r.ms)).toEqual(expected.ms);
    expect(network.nowMs()).toBe(expected.atMs);
    // Every pollable, the socket and its streams are released when converse returns or throws.
    expect(fake.host.created.filter((p) => !p.disposed)).toHaveLength(0);
    expect(fake.released()).toBe(fake.opened());
  });

  test('resolve is the host\'s lookup', () => {
    const fake = fakeSocketHost({ peers: {}, names: { 'mail.test': [to.address] } });
    const network = socketNetwork(fake.sockets);
    expect(network.resolve('mail.test', 100)).toEqual([to.address]);
    expect(() => network.resolve('nowhere.test', 100)).toThrow(expect.objectContaining({ stage: 'resolve', code: 'name-unresolvable' }));
  });
});
