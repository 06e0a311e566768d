// The read loop of one connection: where each reply ends (until, bytes, a length prefix, a quiet gap, the byte
// cap, the deadline, the peer closing). Its poll, clock and stream are passed in, so unit tests drive it without a host.

import { concatBytes } from '../core/bytes.js';
import { SocketFault, streamFault } from './faults.js';
import type { Resources } from '../core/resources.js';
import type { ReadEnd, ReplyEnd } from './dialogue.js';
import { NS_PER_MS, type PollHost, type ReadStream } from './streams.js';

/** Largest read per call; also bounds memory per call. */
const READ_CHUNK_BYTES = 65_536;

/** What `poll` would answer when the input is ready: the input's index, 0. */
const INPUT_READY = Uint32Array.of(0);

/** Index just past the first occurrence of `needle` in `haystack` at or after `from`, or -1. */
function endOf(needle: Uint8Array, haystack: Uint8Array, from: number): number {
  const first = needle[0]!;
  for (let i = haystack.indexOf(first, from); i !== -1 && i + needle.length <= haystack.length; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i + needle.length;
  }
  return -1;
}

/**
 * Reads replies from one connection, step after step. Bytes that arrive after where a step's reply ends
 * (past `until`) are kept for the next step, as the peer sent them in one stream.
 */
export class Reader<P extends Disposable> {
  #pending: Uint8Array = new Uint8Array(0);
  readonly #ready: P;
  /**
   * `resources` holds what the reader creates (the input's pollable, quiet-gap timers) until the connection
   * is released; `deadline` fires when the whole connection is out of time.
   */
  constructor(
    private readonly host: PollHost<P>,
    private readonly resources: Resources,
    private readonly input: ReadStream<P>,
    private readonly deadline: P,
  ) {
    this.#ready = resources.hold(input.subscribe());
  }

  /** How many bytes were received past the end of the last reply and wait for the next read. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** Reads one reply that ends as `spec` says, or at `capBytes` (one byte more means `limit`). */
  read(spec: ReadEnd, capBytes: number): { bytes: Uint8Array; end: ReplyEnd } {
    const until = 'until' in spec ? spec.until : undefined;
    // A length-prefixed reply is an exact count once its 2-byte prefix has arrived.
    const framed = 'lengthPrefixed' in spec;
    let exact = 'bytes' in spec ? spec.bytes : undefined;
    const idleMs = 'idleMs' in spec ? spec.idleMs : undefined;
    const idleNs = BigInt(idleMs ?? 0) * NS_PER_MS;
    const chunks: Uint8Array[] = [];
    let received = 0;
    // The last bytes received (fewer than `until`), where an occurrence split across chunks begins.
    let tail = new Uint8Array(0);
    // One quiet-gap timer at a time: when it fires early (data came since it was set), it is set again
    // for the rest of the gap, instead of being replaced on every chunk.
    let idle: P | undefined;
    let lastDataAt = 0n;
    /** Takes `data` in; returns how the reply ends, or undefined to read on. Bytes past the end wait in #pending. */
    const take = (data: Uint8Array): ReplyEnd | undefined => {
      let keep = data.length;
      let end: ReplyEnd | undefined;
      if (framed && exact === undefined && received + data.length >= 2) {
        // Fewer than 2 bytes came before: at most one, in the one chunk so far.
        const first = received === 0 ? data[0]! : chunks[0]![0]!;
        const second = received === 0 ? data[1]! : data[0]!;
        exact = 2 + ((first << 8) | second);
      }
      // With both `until` and `bytes`, whichever comes first: `until` is looked for only in what `bytes` allows.
      const room = exact === undefined ? data.length : Math.min(data.length, exact - received);
      if (until !== undefined) {
        const span = room < data.length ? data.subarray(0, room) : data;
        const window = tail.length > 0 ? concatBytes([tail, span], tail.length + span.length) : span;
        const at = endOf(until, window, 0);
        if (at !== -1) {
          keep = at - tail.length;
          end = 'until';
        } else {
          tail = window.slice(Math.max(0, window.length - (until.length - 1)));
        }
      }
      if (end === undefined && exact !== undefined && received + room >= exact) {
        keep = exact - received;
        end = framed ? 'complete' : 'bytes';
      }
      if (received + keep > capBytes) {
        keep = capBytes - received;
        end = 'limit';
      }
      if (keep < data.length) this.#pending = data.subarray(keep);
      if (keep > 0) {
        chunks.push(keep === data.length ? data : data.subarray(0, keep));
        received += keep;
      }
      return end;
    };

    let end: ReplyEnd | undefined;
    if (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = new Uint8Array(0);
      end = take(pending);
      if (received > 0) lastDataAt = this.host.now();
    }
    while (end === undefined) {
      if (received > 0 && idleMs !== undefined) idle ??= this.resources.hold(this.host.subscribeDuration(idleNs));
      const fired = this.input.buffered?.() ? INPUT_READY : this.host.poll(idle ? [this.#ready, this.deadline, idle] : [this.#ready, this.deadline]);
      if (fired.includes(0)) {
        let data: Uint8Array;
        try {
          // Never more than the reply can still hold (plus one byte, to tell "exactly at the cap" from
          // "longer"), nor more than `bytes` still wants: what is not read stays with the peer.
          const wanted = Math.min(READ_CHUNK_BYTES, capBytes + 1 - received, exact === undefined ? Infinity : exact - received);
          data = this.input.read(BigInt(wanted));
        } catch (error) {
          const f = streamFault('read', error);
          if (f !== 'closed') throw f;
          end = 'closed';
          break;
        }
        if (data.length === 0) continue;
        end = take(data);
        lastDataAt = this.host.now();
      } else if (fired.includes(1)) {
        if (received === 0) throw new SocketFault('read', 'deadline');
        end = 'deadline';
      } else {
        const quietNs = this.host.now() - lastDataAt;
        if (quietNs >= idleNs) {
          end = 'idle';
          break;
        }
        this.resources.release(idle!);
        idle = this.resources.hold(this.host.subscribeDuration(idleNs - quietNs));
      }
    }
    if (idle) this.resources.release(idle);
    return { bytes: concatBytes(chunks, received), end };
  }
}

