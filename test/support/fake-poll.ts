// A virtual clock, its pollables and a scripted input stream: what the read loop polls, without a host.
// `poll` jumps the clock to the first pollable that becomes ready, so a table of timings runs in no time.

import type { PollHost, ReadStream } from '../../src/net/streams.js';

const NS_PER_MS = 1_000_000n;

/** A pollable on the virtual clock: ready from `readyAt()` on (never, when undefined). */
class FakePollable implements Disposable {
  disposed = false;
  constructor(readonly readyAt: () => bigint | undefined) {}
  [Symbol.dispose](): void {
    if (this.disposed) throw new Error('a pollable was disposed twice');
    this.disposed = true;
  }
}

/** What the peer does at a time: sends bytes, or closes its side. */
export type PeerEvent = { atMs: number; send: string | number[] } | { atMs: number; close: true };

/** The virtual clock and the pollables created on it. */
export function fakePollHost(): PollHost<FakePollable> & { nowMs(): number; created: FakePollable[] } {
  let now = 0n;
  const created: FakePollable[] = [];
  const track = (pollable: FakePollable) => {
    created.push(pollable);
    return pollable;
  };
  return {
    created,
    now: () => now,
    nowMs: () => Number(now / NS_PER_MS),
    subscribeDuration(ns) {
      const at = now + ns;
      return track(new FakePollable(() => at));
    },
    poll(pollables) {
      if (pollables.some((p) => p.disposed)) throw new Error('polled a disposed pollable');
      const times = pollables.map((p) => p.readyAt()).filter((t): t is bigint => t !== undefined);
      if (times.length === 0) throw new Error('poll would block forever');
      const first = times.reduce((a, b) => (a < b ? a : b));
      if (first > now) now = first;
      return Uint32Array.from(pollables.flatMap((p, i) => (p.readyAt() !== undefined && p.readyAt()! <= now ? [i] : [])));
    },
  };
}

/** An input stream that delivers `events` on the host's clock; `reads` records the length of each read asked for. */
export function fakeInput(host: ReturnType<typeof fakePollHost>, events: PeerEvent[]): ReadStream<FakePollable> & { reads: number[]; left(): string } {
  const queue = events.map((e) => ({ atNs: BigInt(e.atMs) * NS_PER_MS, bytes: 'send' in e ? toBytes(e.send) : undefined }));
  const reads: number[] = [];
  const due = () => queue.filter((e) => e.atNs <= host.now());
  return {
    reads,
    left: () => new TextDecoder().decode(Uint8Array.from(queue.flatMap((e) => [...(e.bytes ?? [])]))),
    subscribe: () => {
      const ready = new FakePollable(() => queue[0]?.atNs);
      host.created.push(ready);
      return ready;
    },
    read(len) {
      reads.push(Number(len));
      const out: number[] = [];
      for (const event of due()) {
        if (event.bytes === undefined) {
          if (out.length > 0) break;
          throw Object.assign(new Error('closed'), { payload: { tag: 'closed' } });
        }
        const take = Math.min(event.bytes.length, Number(len) - out.length);
        out.push(...event.bytes.subarray(0, take));
        event.bytes = event.bytes.subarray(take);
        if (event.bytes.length > 0) break;
        queue.shift();
      }
      return Uint8Array.from(out);
    },
  };
}

function toBytes(send: string | number[]): Uint8Array {
  return typeof send === 'string' ? new TextEncoder().encode(send) : Uint8Array.from(send);
}

/** What the peer does with the bytes sent to it: reads `bytesPerMs` from its buffer of `bufferBytes`, from `fromMs` to `untilMs`. */
export interface PeerReading {
  bufferBytes: number;
  bytesPerMs?: number;
  fromMs?: number;
  untilMs?: number;
  /** The peer closes its receiving side at this time: writes fail as the stream closed. */
  closedAtMs?: number;
}

/**
 * An output stream on the host's clock: `write` fills the send buffer, the peer drains it as `reading` says,
 * and `checkWrite` reports the room left (0 while a flush is pending and data is still unread). `written`
 * records each write's length; `received()` what the peer has taken.
 */
export function fakeOutput(host: ReturnType<typeof fakePollHost>, reading: PeerReading) {
  const { bufferBytes, bytesPerMs = Infinity, fromMs = 0, untilMs = Infinity, closedAtMs } = reading;
  let buffered = 0;
  let drainedTotal = 0;
  let sentTotal = 0;
  let lastMs = 0;
  const written: number[] = [];
  const nowMs = () => host.nowMs();
  const closed = () => closedAtMs !== undefined && nowMs() >= closedAtMs;
  /** Brings the buffer to the current time. */
  const drain = () => {
    const from = Math.max(lastMs, fromMs);
    const to = Math.min(nowMs(), untilMs);
    if (to > from || (bytesPerMs === Infinity && nowMs() >= fromMs && nowMs() < untilMs)) {
      const taken = Math.min(buffered, bytesPerMs === Infinity ? buffered : Math.floor((to - from) * bytesPerMs));
      buffered -= taken;
      drainedTotal += taken;
    }
    lastMs = nowMs();
  };
  /** The first time at which there is room again, or undefined if never. */
  const roomAt = (): bigint | undefined => {
    drain();
    if (closed()) return host.now();
    if (buffered < bufferBytes) return host.now();
    if (bytesPerMs === 0 || untilMs <= nowMs()) return closedAtMs === undefined ? undefined : BigInt(closedAtMs) * 1_000_000n;
    const startMs = Math.max(nowMs(), fromMs);
    if (startMs >= untilMs) return undefined;
    return BigInt(Math.ceil(startMs + 1 / Math.min(bytesPerMs, 1e9))) * 1_000_000n;
  };
  const fail = () => {
    throw Object.assign(new Error('closed'), { payload: { tag: 'closed' } });
  };
  return {
    written,
    received: () => drainedTotal,
    sent: () => sentTotal,
    subscribe() {
      const ready = new FakePollable(roomAt);
      host.created.push(ready);
      return ready;
    },
    checkWrite() {
      drain();
      if (closed()) fail();
      return BigInt(Math.max(0, bufferBytes - buffered));
    },
    write(bytes: Uint8Array) {
      drain();
      if (closed()) fail();
      if (bytes.length > bufferBytes - buffered) throw new Error(`wrote ${bytes.length} bytes where checkWrite allowed ${bufferBytes - buffered}`);
      written.push(bytes.length);
      buffered += bytes.length;
      sentTotal += bytes.length;
    },
    flush() {
      drain();
      if (closed()) fail();
    },
  };
}

/** A socket whose connect finishes at `connectedAtMs` (never, when undefined), or fails then with `error` (a WASI code). */
export function fakeConnectingSocket<S>(host: ReturnType<typeof fakePollHost>, connectedAtMs: number | undefined, streams: () => S, error?: string) {
  const at = connectedAtMs === undefined ? undefined : BigInt(connectedAtMs) * 1_000_000n;
  let finishCalls = 0;
  return {
    finishCalls: () => finishCalls,
    subscribe() {
      const ready = new FakePollable(() => at);
      host.created.push(ready);
      return ready;
    },
    finishConnect(): S {
      finishCalls++;
      if (at === undefined || host.now() < at) throw Object.assign(new Error('would-block'), { payload: 'would-block' });
      if (error !== undefined) throw Object.assign(new Error(error), { payload: error });
      return streams();
    },
  };
}
