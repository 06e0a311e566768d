// redactReplies: a secret sent on a connection never comes back in its replies, in one piece or split.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { redactReplies, secretMarker } from '../../src/net/redaction.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('latin1');
const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const text = (value: Uint8Array) => decoder.decode(value);
const secret = (name: string, value: string) => ({ name, value: bytes(value) });

const PW = secret('PW', 'hunter2-correct');

describe('redactReplies(replies, secrets)', () => {
  test('replaces an occurrence inside one reply by its marker and says so', () => {
    const result = redactReplies([bytes('-ERR wrong: hunter2-correct\r\n')], [PW]);
    expect(result.replies.map(text)).toEqual(['-ERR wrong: [secret:PW]\r\n']);
    expect(result).toMatchObject({ redacted: true, redactedSteps: [true], names: ['PW'] });
  });

  test('leaves replies without a secret as they are, the same arrays', () => {
    const replies = [bytes('+OK\r\n'), bytes('')];
    const result = redactReplies(replies, [PW]);
    expect(result.replies[0]).toBe(replies[0]);
    expect(result).toMatchObject({ redacted: false, redactedSteps: [false, false], names: [] });
  });

  test('an echo split across two steps puts a marker in each step where its part was', () => {
    const result = redactReplies([bytes('echo: hunter2'), bytes('-correct done')], [PW]);
    expect(result.replies.map(text)).toEqual(['echo: [secret:PW]', '[secret:PW] done']);
    expect(result.redactedSteps).toEqual([true, true]);
  });

  test('an echo spread over many steps, empty ones among them, leaves no part of it', () => {
    const pieces = ['x hun', '', 'te', 'r2-c', '', 'orrect y'];
    const result = redactReplies(pieces.map(bytes), [PW]);
    expect(result.replies.map(text)).toEqual(['x [secret:PW]', '', '[secret:PW]', '[secret:PW]', '', '[secret:PW] y']);
    expect(result.redactedSteps).toEqual([true, false, true, true, false, true]);
  });

  test('repeated occurrences each get a marker, adjacent ones too', () => {
    const result = redactReplies([bytes('hunter2-correcthunter2-correct and hunter2-correct')], [PW]);
    expect(text(result.replies[0]!)).toBe('[secret:PW][secret:PW] and [secret:PW]');
  });

  test('overlapping occurrences of one secret become one marker', () => {
    const result = redactReplies([bytes('<abababab-abababab>')], [secret('S', 'abababab')]);
    // "abababab" occurs at 1, 3, 5 … overlapping: the whole run of its occurrences is one region.
    expect(text(result.replies[0]!)).toBe('<[secret:S]-[secret:S]>');
  });

  test('a secret inside another is covered by the longer one\'s marker', () => {
    const outer = secret('OUTER', 'prefix-inner-secret-suffix');
    const inner = secret('INNER', 'inner-secret');
    const result = redactReplies([bytes('a prefix-inner-secret-suffix b inner-secret c')], [inner, outer]);
    expect(text(result.replies[0]!)).toBe('a [secret:OUTER] b [secret:INNER] c');
    expect(result.names).toEqual(['INNER', 'OUTER']);
  });

  test('two secrets that overlap become one marker, named after the longer', () => {
    const a = secret('A', 'aaaa-bbbb');
    const b = secret('B', 'bbbb-cccc-dddd');
    const result = redactReplies([bytes('x aaaa-bbbb-cccc-dddd y')], [a, b]);
    expect(text(result.replies[0]!)).toBe('x [secret:B] y');
  });

  test('a stream cut inside an echo, at least half of the secret in, is redacted', () => {
    const half = 'hunter2-';
    const result = redactReplies([bytes('echo: '), bytes(half)], [PW]);
    expect(result.replies.map(text)).toEqual(['echo: ', '[secret:PW]']);
  });

  test('a stream that ends with less than half of a secret is left as it is (said in SECURITY.md)', () => {
    const result = redactReplies([bytes('echo: hunt')], [PW]);
    expect(text(result.replies[0]!)).toBe('echo: hunt');
    expect(result.redacted).toBe(false);
  });

  test('a cut echo in the middle of the stream is not a secret: only whole occurrences and the stream\'s end count', () => {
    const result = redactReplies([bytes('hunter2-c then more')], [PW]);
    expect(text(result.replies[0]!)).toBe('hunter2-c then more');
  });

  test('finds a secret of binary bytes and of multi-byte UTF-8', () => {
    const binary = { name: 'BIN', value: Uint8Array.of(0, 255, 1, 254, 2, 253, 3, 252) };
    const unicode = { name: 'UNI', value: encoder.encode('pässwörd€') };
    const reply = Uint8Array.of(9, ...binary.value, 9, ...unicode.value, 9);
    const result = redactReplies([reply], [binary, unicode]);
    expect(text(result.replies[0]!)).toBe('\t[secret:BIN]\t[secret:UNI]\t');
  });

  test('a 1 MiB stream with 10 secrets takes one pass per secret, not one per position (counted, not timed)', () => {
    // Each secret is a run of one byte with a different last byte: the worst case of a naive search, which
    // compares up to the secret's length at every position. KMP's comparisons stay within twice the length.
    const secrets = Array.from({ length: 10 }, (_, i) => ({ name: `S${i}`, value: Uint8Array.from({ length: 4096 }, (_, j) => (j === 4095 ? 66 + i : 65)) }));
    const stream = new Uint8Array(1_048_576).fill(65);
    stream[stream.length - 1] = 90;
    stream.set(secrets[3]!.value, 500_000);
    let reads = 0;
    const counted = new Proxy(stream, {
      get(target, key) {
        if (typeof key === 'string' && /^[0-9]+$/.test(key)) reads++;
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const result = redactReplies([counted as Uint8Array], secrets);
    expect(reads).toBeLessThanOrEqual(10 * stream.length + 1);
    expect(result.names).toEqual(['S3']);
    expect(result.replies[0]!.length).toBe(stream.length - 4096 + secretMarker('S3').length);
    expect(result.replies[0]![500_000]).toBe('['.charCodeAt(0));
  });
});

describe('redactReplies properties', () => {
  // Secrets over a few bytes that are not in any marker, so a secret can only be found where the input had it.
  const alphabet = fc.constantFrom(0, 1, 2, 255);
  const secretValue = fc.uint8Array({ minLength: 8, maxLength: 12 }).map((b) => b.map((x) => [0, 1, 2, 255][x % 4]!));
  const secrets = fc.uniqueArray(secretValue, { minLength: 1, maxLength: 3, selector: (v) => v.join(',') }).map((values) => values.map((value, i) => ({ name: `S${i}`, value })));
  const streamWith = (values: { value: Uint8Array }[]) =>
    fc
      .array(fc.oneof(fc.array(alphabet, { maxLength: 6 }).map((b) => Uint8Array.from(b)), fc.constantFrom(...values.map((v) => v.value))), { maxLength: 8 })
      .map((chunks) => Uint8Array.from(chunks.flatMap((c) => [...c])));
  const splits = (stream: Uint8Array) => fc.uniqueArray(fc.integer({ min: 0, max: stream.length }), { maxLength: 4 }).map((cuts) => {
    const at = [0, ...cuts.sort((a, b) => a - b), stream.length];
    return at.slice(1).map((end, i) => stream.slice(at[i], end));
  });
  const input = secrets.chain((s) => streamWith(s).chain((stream) => splits(stream).map((replies) => ({ secrets: s, stream, replies }))));

  const contains = (haystack: Uint8Array, needle: Uint8Array) => {
    for (let i = 0; i + needle.length <= haystack.length; i++) if (needle.every((b, j) => haystack[i + j] === b)) return true;
    return false;
  };
  const join = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

  test('no secret\'s bytes are left in the replies, read one by one or as one stream', () => {
    fc.assert(
      fc.property(input, ({ secrets, replies }) => {
        const out = redactReplies(replies, secrets).replies;
        for (const { value } of secrets) expect(contains(join(out), value)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  test('bytes outside every occurrence are unchanged: the output is the input with each covered run replaced by one marker', () => {
    fc.assert(
      fc.property(input, ({ secrets, stream, replies }) => {
        // An independent oracle: every occurrence found by brute force, plus the stream's tail when it is at least
        // half of a secret's beginning; overlapping ones joined (adjacent ones stay apart, one marker each).
        const found: [number, number][] = [];
        for (const { value } of secrets) {
          for (let i = 0; i + value.length <= stream.length; i++) if (value.every((b, j) => stream[i + j] === b)) found.push([i, i + value.length]);
          for (let k = value.length - 1; k > 0 && 2 * k >= value.length; k--) {
            if (k <= stream.length && value.subarray(0, k).every((b, j) => stream[stream.length - k + j] === b)) {
              found.push([stream.length - k, stream.length]);
              break;
            }
          }
        }
        const runs: [number, number][] = [];
        for (const [start, end] of found.sort((a, b) => a[0] - b[0])) {
          const last = runs[runs.length - 1];
          if (last && start < last[1]) last[1] = Math.max(last[1], end);
          else runs.push([start, end]);
        }
        let offset = 0;
        const expected = replies.map((reply) => {
          let shown = '';
          for (let i = 0; i < reply.length; i++) {
            const at = offset + i;
            const run = runs.find(([start, end]) => at >= start && at < end);
            if (!run) shown += String.fromCharCode(reply[i]!);
            else if (i === 0 || at === run[0]) shown += '#';
          }
          offset += reply.length;
          return shown;
        });
        const actual = redactReplies(replies, secrets).replies.map((r) => text(r).replace(/\[secret:S[0-9]\]/g, '#'));
        expect(actual).toEqual(expected);
      }),
      { numRuns: 2_000 },
    );
  });
});
