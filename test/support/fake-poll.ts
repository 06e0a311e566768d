// A virtual clock, its pollables, scripted streams and sockets: the host's primitives (src/net/streams.ts)
// without a host, throwing the contract's own fault values. `poll` jumps the clock to the first pollable that
// becomes ready, so a table of timings runs in no time.

import { SocketFault, type WasiSocketErrorCode } from '../../src/net/faults.js';
import { type IpAddress, formatSocketAddress } from '../../src/net/ip.js';
import { type PollHost, type ReadStream, type SocketHost, type SocketStreams, StreamClosed } from '../../src/net/streams.js';
import type { TlsEngine } from '../../src/net/tls/engine.js';

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
          throw new StreamClosed();
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
    throw new StreamClosed();
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
export function fakeConnectingSocket<S>(host: ReturnType<typeof fakePollHost>, connectedAtMs: number | undefined, streams: () => S, error?: WasiSocketErrorCode) {
  const at = connectedAtMs === undefined ? undefined : BigInt(connectedAtMs) * 1_000_000n;
  let finishCalls = 0;
  return {
    finishCalls: () => finishCalls,
    subscribe() {
      const ready = new FakePollable(() => at);
      host.created.push(ready);
      return ready;
    },
    finishConnect(): S | undefined {
      finishCalls++;
      if (at === undefined || host.now() < at) return undefined;
      if (error !== undefined) throw new SocketFault('connect', error);
      return streams();
    },
  };
}

/** One scripted peer of `fakeSocketHost`: when its connect finishes (or fails), what it sends, how it reads. */
export interface FakePeer {
  /** When the connect finishes; never, when absent. */
  connectedAtMs?: number;
  /** The WASI code the connect fails with at `connectedAtMs`. */
  refusedWith?: WasiSocketErrorCode;
  events?: PeerEvent[];
  reading?: PeerReading;
}

/** An engine for a fake host whose dialogues never start TLS. */
const NO_TLS: TlsEngine = {
  openSession: () => {
    throw new Error('this fake host has no TLS engine');
  },
  checkRoots: () => 0,
};

/**
 * The host's primitives on the virtual clock: `names` maps a name to its addresses, `peers` maps `addr:port` to
 * a scripted peer (any other address refuses the connection at 1 ms). `released()` counts the sockets and
 * streams released, `opened()` those created, so a test sees that a dialogue leaves nothing behind.
 */
export function fakeSocketHost(options: { peers: Record<string, FakePeer>; names?: Record<string, IpAddress[]>; tls?: TlsEngine }) {
  const host = fakePollHost();
  let opened = 0;
  let released = 0;
  const held = <T extends object>(value: T): T & Disposable => {
    opened++;
    let disposed = false;
    return Object.assign(value, {
      [Symbol.dispose]() {
        if (disposed) throw new Error('a socket resource was released twice');
        disposed = true;
        released++;
      },
    });
  };
  const outputs: ReturnType<typeof fakeOutput>[] = [];
  const sockets: SocketHost<FakePollable> = {
    poll: host,
    tls: options.tls ?? NO_TLS,
    resolve(name) {
      const addresses = options.names?.[name];
      if (addresses === undefined) throw new SocketFault('resolve', 'name-unresolvable');
      return addresses;
    },
    connect(to, resources) {
      const peer = options.peers[formatSocketAddress(to)] ?? { connectedAtMs: 1, refusedWith: 'connection-refused' };
      resources.hold(held({ socket: formatSocketAddress(to) }));
      const streams = (): SocketStreams<FakePollable> => {
        const output = fakeOutput(host, peer.reading ?? { bufferBytes: 65_536 });
        outputs.push(output);
        return [held(fakeInput(host, peer.events ?? [])), held(output)];
      };
      return fakeConnectingSocket(host, peer.connectedAtMs, streams, peer.refusedWith);
    },
  };
  return { sockets, host, outputs, opened: () => opened, released: () => released };
}
