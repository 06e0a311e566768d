// The end detectors the reader composes, fed chunk by chunk: where each finds its end, and which wins a tie.

import { describe, expect, test } from 'vitest';
import { lengthFrameEnd } from '../../src/net/dns/length-frame.js';
import { type ByteEnd, capEnd, countEnd, firstEnd, untilEnd } from '../../src/net/read-ends.js';

const text = (s: string) => new TextEncoder().encode(s);

/** Feeds `chunks` to `detector` in turn until it finds its end: the bytes of the reply up to there, or undefined. */
function replyOf(detector: ByteEnd, chunks: Uint8Array[]): string | undefined {
  const reply: number[] = [];
  for (const chunk of chunks) {
    const at = detector.endIn(chunk, reply.length);
    reply.push(...chunk.subarray(0, at === -1 ? chunk.length : at));
    if (at !== -1) return String.fromCharCode(...reply);
  }
  return undefined;
}

const bytesOf = (s: string) => [...s].map((c) => Uint8Array.of(c.charCodeAt(0)));

describe('untilEnd(terminator)', () => {
  test('a terminator longer than the chunks it arrives in is found in the chunk that completes it', () => {
    expect(replyOf(untilEnd(text('\r\n\r\n')), bytesOf('head\r\n\r\nbody'))).toBe('head\r\n\r\n');
  });

  test('a false start split across chunks is not taken for the terminator', () => {
    expect(replyOf(untilEnd(text('\r\n\r\n')), [text('a\r\n'), text('\rb\r'), text('\n\r'), text('\nrest')])).toBe('a\r\n\rb\r\n\r\n');
  });

  test('never found: the whole input is read on', () => {
    expect(replyOf(untilEnd(text('END')), [text('EN'), text('dE'), text('N')])).toBeUndefined();
  });
});

describe('lengthFrameEnd()', () => {
  test.each([
    ['the prefix in its own chunks, one byte each', [[0], [3], [97, 98, 99, 100]], '\u0000\u0003abc'],
    ['prefix and message in one chunk with more after it', [[0, 2, 97, 98, 99]], '\u0000\u0002ab'],
    ['an empty message: the prefix alone', [[0, 0, 1]], '\u0000\u0000'],
    ['a length over 255: big-endian', [[1], [0, ...new Array<number>(256).fill(120)]], `\u0001\u0000${'x'.repeat(256)}`],
  ])('%s', (_, chunks, expected) => {
    expect(replyOf(lengthFrameEnd(), chunks.map((c) => Uint8Array.from(c)))).toBe(expected);
  });

  test('asks for no more than the rest of the message once its prefix is in', () => {
    const frame = lengthFrameEnd();
    expect(frame.room(0)).toBe(Infinity);
    frame.endIn(Uint8Array.of(0, 10, 1), 0);
    expect(frame.room(3)).toBe(9);
  });
});

describe('firstEnd(ends, data, received)', () => {
  test('a terminator that ends exactly at the count ends on until; exactly at the cap is not limit', () => {
    expect(firstEnd([untilEnd(text('\n')), countEnd(3), capEnd(3)], text('ab\ncd'), 0)).toEqual({ at: 3, end: 'until' });
  });

  test('the earliest end wins, whatever its place in the list', () => {
    expect(firstEnd([untilEnd(text('\n')), countEnd(5), capEnd(2)], text('abcd\nef'), 0)).toEqual({ at: 2, end: 'limit' });
  });
});
