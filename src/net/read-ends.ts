// Where a reply can end, each a small detector with one job: inside its bytes (a terminator, a count, the byte
// cap; the DNS length frame lives with DNS), or after a quiet gap. The reader (reply-reader.ts) composes them.

import type { Resources } from '../core/resources.js';
import type { ReplyEnd } from './dialogue.js';
import { NS_PER_MS, type PollHost } from './streams.js';

/** An end found inside the bytes of a reply, fed each chunk in the order it arrives. */
export interface ByteEnd {
  /** How the reply ends when this detector ends it. */
  readonly end: ReplyEnd;
  /**
   * How many bytes of `data`, which follow the `received` bytes the reply has so far, belong to the reply if it
   * ends inside `data`; -1 if it does not. Called with every chunk in turn, so a detector may remember what it saw.
   */
  endIn(data: Uint8Array, received: number): number;
  /** The most bytes a read may ask for after `received`: what the detector does not want stays with the peer. */
  room(received: number): number;
}

/** Index just past the first occurrence of `needle` in `haystack`, or -1. */
function endOf(needle: Uint8Array, haystack: Uint8Array): number {
  const first = needle[0]!;
  for (let i = haystack.indexOf(first); i !== -1 && i + needle.length <= haystack.length; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i + needle.length;
  }
  return -1;
}

/** Right after the first occurrence of `terminator` (1 or more bytes), found also when it is split across chunks. */
export function untilEnd(terminator: Uint8Array): ByteEnd {
  // The last bytes seen (fewer than the terminator), where an occurrence split across chunks begins.
  let tail = new Uint8Array(0);
  return {
    end: 'until',
    endIn(data) {
      if (tail.length > 0) {
        // Only an occurrence that begins in `tail` needs the bytes joined; one inside `data` is found there.
        const seam = new Uint8Array(tail.length + Math.min(data.length, terminator.length - 1));
        seam.set(tail);
        seam.set(data.subarray(0, seam.length - tail.length), tail.length);
        const at = endOf(terminator, seam);
        if (at !== -1) return at - tail.length;
      }
      const at = endOf(terminator, data);
      if (at !== -1) return at;
      const keep = terminator.length - 1;
      if (data.length >= keep) {
        tail = data.slice(data.length - keep);
      } else {
        const joined = new Uint8Array(Math.min(keep, tail.length + data.length));
        joined.set(tail.subarray(tail.length + data.length - joined.length));
        joined.set(data, joined.length - data.length);
        tail = joined;
      }
      return -1;
    },
    room: () => Infinity,
  };
}

/** After exactly `count` bytes, reported as `end` (`bytes`, or the end of a framed message). */
export function countEnd(count: number, end: ReplyEnd = 'bytes'): ByteEnd {
  return {
    end,
    endIn: (data, received) => (received + data.length >= count ? count - received : -1),
    room: (received) => count - received,
  };
}

/**
 * The byte cap: a reply longer than `capBytes` ends at the cap as `limit`. A read may ask for one byte past it,
 * to tell "exactly at the cap" (not a limit) from "longer".
 */
export function capEnd(capBytes: number): ByteEnd {
  return {
    end: 'limit',
    endIn: (data, received) => (received + data.length > capBytes ? capBytes - received : -1),
    room: (received) => capBytes + 1 - received,
  };
}

/** Where the first of `ends` falls in `data` (at a tie, the one listed first), or undefined when none does. */
export function firstEnd(ends: readonly ByteEnd[], data: Uint8Array, received: number): { at: number; end: ReplyEnd } | undefined {
  let first: { at: number; end: ReplyEnd } | undefined;
  // Every detector sees every chunk, so what each remembers stays whole.
  for (const detector of ends) {
    const at = detector.endIn(data, received);
    if (at !== -1 && (first === undefined || at < first.at)) first = { at, end: detector.end };
  }
  return first;
}

/** The most bytes a read may ask for after `received`, as the most demanding of `ends` allows. */
export function roomLeft(ends: readonly ByteEnd[], received: number): number {
  let room = Infinity;
  for (const detector of ends) room = Math.min(room, detector.room(received));
  return room;
}

/**
 * The quiet gap: the reply ends `idleMs` after its last data arrived (never before its first byte). One timer
 * at a time: when it fires early (data came since it was set) it is set again for the rest of the gap, instead
 * of being replaced on every chunk.
 */
export class QuietGap<P extends Disposable> {
  readonly #idleNs: bigint;
  #timer: P | undefined;
  #lastDataAt = 0n;

  /** `resources` holds the timer until the gap ends (`release`) or the connection is released. */
  constructor(
    private readonly host: PollHost<P>,
    private readonly resources: Resources,
    idleMs: number,
  ) {
    this.#idleNs = BigInt(idleMs) * NS_PER_MS;
  }

  /** Data arrived now: the gap is measured from here. */
  dataArrived(): void {
    this.#lastDataAt = this.host.now();
  }

  /** The timer to wait on beside the input, set once the reply has data; none before its first byte. */
  timer(received: number): P | undefined {
    if (received > 0) this.#timer ??= this.resources.hold(this.host.subscribeDuration(this.#idleNs));
    return this.#timer;
  }

  /** Whether the gap is over, now that the timer fired; if not, the timer is set again for the rest of it. */
  elapsed(): boolean {
    const quietNs = this.host.now() - this.#lastDataAt;
    if (quietNs >= this.#idleNs) return true;
    this.release();
    this.#timer = this.resources.hold(this.host.subscribeDuration(this.#idleNs - quietNs));
    return false;
  }

  /** Lets the timer go (the read is over). */
  release(): void {
    if (this.#timer) this.resources.release(this.#timer);
    this.#timer = undefined;
  }
}
