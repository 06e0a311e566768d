// The read loop on a virtual clock: each way a reply ends, at the time it must end, with what it keeps.

import { describe, expect, test } from 'vitest';
import { SocketFault } from '../../src/net/faults.js';
import { Reader } from '../../src/net/reply-reader.js';
import { NS_PER_MS } from '../../src/net/streams.js';
import { Resources } from '../../src/core/resources.js';
import type { ReadEnd, ReplyEnd } from '../../src/net/dialogue.js';
import { type PeerEvent, fakeInput, fakePollHost } from '../support/fake-poll.js';

const text = (s: string) => new TextEncoder().encode(s);
const shown = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** One step: how it reads, and the byte cap left for it. */
interface StepSpec {
  read: ReadEnd;
  capBytes?: number;
}

/** Runs `steps` on one connection whose peer does `events`, with a deadline `deadlineMs` away. */
function run(events: PeerEvent[], steps: StepSpec[], deadlineMs = 10_000) {
  const host = fakePollHost();
  const input = fakeInput(host, events);
  const results: { bytes: string; end: ReplyEnd | 'read-deadline'; atMs: number }[] = [];
  {
    using resources = new Resources();
    const deadline = resources.hold(host.subscribeDuration(BigInt(deadlineMs) * NS_PER_MS));
    const reader = new Reader(host, resources, input, deadline);
    for (const step of steps) {
      try {
        const { bytes, end } = reader.read(step.read, step.capBytes ?? 1_000_000);
        results.push({ bytes: shown(bytes), end, atMs: host.nowMs() });
      } catch (error) {
        if (!(error instanceof SocketFault && error.stage === 'read' && error.code === 'deadline')) throw error;
        results.push({ bytes: '', end: 'read-deadline', atMs: host.nowMs() });
        break;
      }
    }
  }
  return { results, reads: input.reads, left: input.left(), undisposed: host.created.filter((p) => !p.disposed).length };
}

const idle = (idleMs: number): StepSpec => ({ read: { idleMs } });
const until = (s: string, capBytes?: number): StepSpec => ({ read: { until: text(s) }, capBytes });
const bytes = (n: number, capBytes?: number): StepSpec => ({ read: { bytes: n }, capBytes });
const framed: StepSpec = { read: { lengthPrefixed: true } };

type Case = [name: string, events: PeerEvent[], steps: StepSpec[], expected: { bytes: string; end: string; atMs: number }[], deadlineMs?: number];

const CASES: Case[] = [
  ['the peer closes: the reply ends when it does', [{ atMs: 0, send: 'hello' }, { atMs: 10, close: true }], [idle(100)], [{ bytes: 'hello', end: 'closed', atMs: 10 }]],
  ['a quiet gap after data ends the reply, later data is not waited for', [{ atMs: 0, send: 'a' }, { atMs: 50, send: 'b' }, { atMs: 300, send: 'c' }], [idle(100)], [{ bytes: 'ab', end: 'idle', atMs: 150 }]],
  ['the gap is measured from the last data: an early timer is set again for the rest', [{ atMs: 0, send: 'a' }, { atMs: 80, send: 'b' }], [idle(100)], [{ bytes: 'ab', end: 'idle', atMs: 180 }]],
  ['no quiet gap before the first byte: a silent peer is waited for until the deadline', [{ atMs: 400, send: 'late' }], [idle(100)], [{ bytes: 'late', end: 'idle', atMs: 500 }]],
  ['the deadline after some data ends the reply with what came', [{ atMs: 0, send: 'a' }], [until('\n')], [{ bytes: 'a', end: 'deadline', atMs: 500 }], 500],
  ['the deadline before any data is a read deadline fault', [], [idle(100)], [{ bytes: '', end: 'read-deadline', atMs: 500 }], 500],
  ['until: the reply ends right after the terminator; the rest waits for the next step', [{ atMs: 0, send: 'one\r\ntwo\r\n' }], [until('\r\n'), until('\r\n')], [{ bytes: 'one\r\n', end: 'until', atMs: 0 }, { bytes: 'two\r\n', end: 'until', atMs: 0 }]],
  ['until: a terminator split across chunks is found', [{ atMs: 0, send: 'ab\r' }, { atMs: 10, send: '\nrest' }], [until('\r\n'), bytes(4)], [{ bytes: 'ab\r\n', end: 'until', atMs: 10 }, { bytes: 'rest', end: 'bytes', atMs: 10 }]],
  ['until: the quiet gap does not end the read', [{ atMs: 0, send: 'a' }, { atMs: 900, send: 'b\n' }], [until('\n')], [{ bytes: 'ab\n', end: 'until', atMs: 900 }]],
  ['until: the peer closing before the terminator ends the read', [{ atMs: 0, send: 'partial' }, { atMs: 5, close: true }], [until('\n')], [{ bytes: 'partial', end: 'closed', atMs: 5 }]],
  ['bytes: exactly that many, the rest is left unread for the next step', [{ atMs: 0, send: 'hello world' }], [bytes(5), bytes(6)], [{ bytes: 'hello', end: 'bytes', atMs: 0 }, { bytes: ' world', end: 'bytes', atMs: 0 }]],
  ['bytes: arriving in pieces', [{ atMs: 0, send: 'he' }, { atMs: 20, send: 'llo' }], [bytes(5)], [{ bytes: 'hello', end: 'bytes', atMs: 20 }]],
  ['the byte cap: one byte more than the cap means limit, cut at the cap', [{ atMs: 0, send: 'hello' }], [{ ...idle(100), capBytes: 4 }], [{ bytes: 'hell', end: 'limit', atMs: 0 }]],
  ['the byte cap: exactly at the cap is not limit', [{ atMs: 0, send: 'hello' }, { atMs: 10, close: true }], [{ ...idle(100), capBytes: 5 }], [{ bytes: 'hello', end: 'closed', atMs: 10 }]],
  ['the byte cap wins over until when the terminator comes after it', [{ atMs: 0, send: 'abcdef\n' }], [until('\n', 3)], [{ bytes: 'abc', end: 'limit', atMs: 0 }]],
  ['until and bytes: the terminator first ends the read on until', [{ atMs: 0, send: 'ab\ncdef' }], [{ read: { until: text('\n'), bytes: 5 } }, bytes(4)], [{ bytes: 'ab\n', end: 'until', atMs: 0 }, { bytes: 'cdef', end: 'bytes', atMs: 0 }]],
  ['until and bytes: the count first ends the read on bytes, the terminator after it waits for the next step', [{ atMs: 0, send: 'abcd\nx' }], [{ read: { until: text('\n'), bytes: 3 } }, until('\n')], [{ bytes: 'abc', end: 'bytes', atMs: 0 }, { bytes: 'd\n', end: 'until', atMs: 0 }]],
  ['until and bytes: a terminator past the count in bytes left from the step before is not taken', [{ atMs: 0, send: 'x|abc\n' }], [until('|'), { read: { until: text('\n'), bytes: 2 } }], [{ bytes: 'x|', end: 'until', atMs: 0 }, { bytes: 'ab', end: 'bytes', atMs: 0 }]],
  ['until and idle_ms: a quiet gap before the terminator ends the read on idle', [{ atMs: 0, send: 'a' }, { atMs: 500, send: 'b\n' }], [{ read: { until: text('\n'), idleMs: 100 } }], [{ bytes: 'a', end: 'idle', atMs: 100 }]],
  ['length-prefixed: complete once 2 + length bytes are in, however they are split', [{ atMs: 0, send: [0] }, { atMs: 5, send: [3, 97, 98] }, { atMs: 9, send: [99, 120] }], [framed], [{ bytes: '\u0000\u0003abc', end: 'complete', atMs: 9 }]],
  ['length-prefixed: a pause inside the message is waited for (no quiet gap), up to the deadline', [{ atMs: 0, send: [0, 4, 97] }, { atMs: 600, send: [98] }], [framed], [{ bytes: '\u0000\u0004ab', end: 'deadline', atMs: 1_000 }], 1_000],
];

describe('Reader.read(spec, capBytes) on a virtual clock', () => {
  test.each(CASES)('%s', (_, events, steps, expected, deadlineMs) => {
    expect(run(events, steps, deadlineMs).results).toEqual(expected);
  });

  test.each(CASES)('%s: every pollable it made is released with the connection', (_, events, steps, __, deadlineMs) => {
    expect(run(events, steps, deadlineMs).undisposed).toBe(0);
  });

  test('bytes: no read asks for more than the step still wants, so what it does not want stays with the peer', () => {
    const { reads, left } = run([{ atMs: 0, send: 'hello world' }], [bytes(5)]);
    expect(Math.max(...reads)).toBeLessThanOrEqual(5);
    expect(left).toBe(' world');
  });

  test('the byte cap: no read asks for more than one byte past it', () => {
    const { reads } = run([{ atMs: 0, send: 'x'.repeat(100) }], [{ ...idle(100), capBytes: 10 }]);
    expect(Math.max(...reads)).toBeLessThanOrEqual(11);
  });
});
