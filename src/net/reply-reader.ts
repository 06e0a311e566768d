// The read loop of one connection: reads until one of the ends the step asks for (read-ends.ts: until, bytes,
// the DNS length frame, a quiet gap, the byte cap), the deadline, or the peer closing. Its poll, clock and stream
// are passed in, so unit tests drive it without a host.

import { concatBytes } from '../core/bytes.js';
import { SocketFault, streamFault } from './faults.js';
import type { Resources } from '../core/resources.js';
import { lengthFrameEnd } from './dns/length-frame.js';
import type { ReadEnd, ReplyEnd } from './dialogue.js';
import { type ByteEnd, QuietGap, capEnd, countEnd, firstEnd, roomLeft, untilEnd } from './read-ends.js';
import type { PollHost, ReadStream } from './streams.js';

/** Largest read per call; also bounds memory per call. */
const READ_CHUNK_BYTES = 65_536;

/** What `poll` would answer when the input is ready: the input's index, 0. */
const INPUT_READY = Uint32Array.of(0);

/**
 * The detectors of the ends inside a reply's bytes that `spec` asks for, and the cap. Listed in the order that
 * wins a tie: with both `until` and `bytes`, a terminator that ends exactly at the count ends on `until`; the
 * cap ends a reply only when a byte more arrived.
 */
function byteEndsOf(spec: ReadEnd, capBytes: number): ByteEnd[] {
  if ('lengthPrefixed' in spec) return [lengthFrameEnd(), capEnd(capBytes)];
  const ends: ByteEnd[] = [];
  if (spec.until !== undefined) ends.push(untilEnd(spec.until));
  if (spec.bytes !== undefined) ends.push(countEnd(spec.bytes));
  ends.push(capEnd(capBytes));
  return ends;
}

/** The bytes of one reply so far, as the chunks they came in. */
class ReplyBytes {
  readonly #chunks: Uint8Array[] = [];
  length = 0;

  add(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  joined(): Uint8Array {
    return concatBytes(this.#chunks, this.length);
  }
}

/** One read in progress: where it may end, and what it has so far. */
interface ReadState<P extends Disposable> {
  ends: ByteEnd[];
  gap: QuietGap<P> | undefined;
  reply: ReplyBytes;
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
    const idleMs = 'idleMs' in spec ? spec.idleMs : undefined;
    const state: ReadState<P> = {
      ends: byteEndsOf(spec, capBytes),
      gap: idleMs === undefined ? undefined : new QuietGap(this.host, this.resources, idleMs),
      reply: new ReplyBytes(),
    };
    let end = this.#takePending(state);
    while (end === undefined) end = this.#waitOnce(state);
    state.gap?.release();
    return { bytes: state.reply.joined(), end };
  }

  /** Starts the reply with the bytes left over from the step before, if any. */
  #takePending(state: ReadState<P>): ReplyEnd | undefined {
    if (this.#pending.length === 0) return undefined;
    const pending = this.#pending;
    this.#pending = new Uint8Array(0);
    const end = this.#take(state, pending);
    if (state.reply.length > 0) state.gap?.dataArrived();
    return end;
  }

  /** Waits for the next thing to happen (data, the peer closing, the deadline, the quiet gap); how the reply ends, if it does. */
  #waitOnce(state: ReadState<P>): ReplyEnd | undefined {
    const { gap, reply } = state;
    const timer = gap?.timer(reply.length);
    const fired = this.input.buffered?.() ? INPUT_READY : this.host.poll(timer ? [this.#ready, this.deadline, timer] : [this.#ready, this.deadline]);
    if (fired.includes(0)) return this.#readChunk(state);
    if (fired.includes(1)) {
      if (reply.length === 0) throw new SocketFault('read', 'deadline');
      return 'deadline';
    }
    return gap!.elapsed() ? 'idle' : undefined;
  }

  /** Reads what the input has, never more than the ends allow; how the reply ends, if it does. */
  #readChunk(state: ReadState<P>): ReplyEnd | undefined {
    let data: Uint8Array;
    try {
      data = this.input.read(BigInt(Math.min(READ_CHUNK_BYTES, roomLeft(state.ends, state.reply.length))));
    } catch (error) {
      const f = streamFault('read', error);
      if (f !== 'closed') throw f;
      return 'closed';
    }
    if (data.length === 0) return undefined;
    const end = this.#take(state, data);
    if (end === undefined) state.gap?.dataArrived();
    return end;
  }

  /** Adds `data` to the reply up to where it ends; how it ends, if it does. Bytes past the end wait in #pending. */
  #take(state: ReadState<P>, data: Uint8Array): ReplyEnd | undefined {
    const found = firstEnd(state.ends, data, state.reply.length);
    const keep = found?.at ?? data.length;
    if (keep < data.length) this.#pending = data.subarray(keep);
    if (keep > 0) state.reply.add(keep === data.length ? data : data.subarray(0, keep));
    return found?.end;
  }
}
