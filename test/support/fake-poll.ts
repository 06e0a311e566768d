// A virtual clock, its pollables and a scripted input stream: what the read loop polls, without a host.
// `poll` jumps the clock to the first pollable that becomes ready, so a table of timings runs in no time.

import type { PollHost, ReadStream } from '../../src/net/reply-reader.js';

const NS_PER_MS = 1_000_000n;

/** A pollable on the virtual clock: ready from `readyAt()` on (never, when undefined). */
export class FakePollable implements Disposable {
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
