// `UdpNetwork` built on the host's primitives (`DatagramHost`): each dialogue opens one socket connected to its
// remote address, sends and collects each step's datagrams within the request's deadline and caps, and
// releases everything it held, whatever happens. The same code runs over WASI and over the unit tests' fakes.

import { Resources } from '../core/resources.js';
import { timer } from './connection.js';
import type { DatagramChannel, DatagramEnd, DatagramExchange, DatagramHost, DatagramLimits, DatagramReply, DatagramStep, ReceivedDatagram, UdpNetwork } from './datagrams.js';
import { SocketFault } from './faults.js';
import { type SocketAddress, formatSocketAddress } from './ip.js';
import { NS_PER_MS, type PollHost } from './streams.js';

/** A fault of a dialogue of datagrams, with the replies of the steps that completed before it. */
export class DatagramFault extends Error {
  override readonly name = 'DatagramFault';
  constructor(
    readonly fault: SocketFault,
    readonly replies: DatagramReply[],
    readonly ignored: number,
  ) {
    super(fault.message);
  }
}

/** Outbound UDP over `host`: a connected socket per dialogue, deadlines on its monotonic clock. */
export function datagramNetwork<P extends Disposable>(host: DatagramHost<P>): UdpNetwork {
  return { exchange: (to, steps, limits) => exchange(host, to, steps, limits) };
}

/** What one dialogue holds while it runs. */
interface Run<P extends Disposable> {
  poll: PollHost<P>;
  resources: Resources;
  channel: DatagramChannel<P>;
  readable: P;
  deadline: P;
  from: string;
  limits: DatagramLimits;
  /** Datagrams and bytes received so far, over every step; datagrams dropped for coming from elsewhere. */
  received: { datagrams: number; bytes: number; ignored: number };
  writable?: P;
}

function exchange<P extends Disposable>(host: DatagramHost<P>, to: SocketAddress, steps: readonly DatagramStep[], limits: DatagramLimits): DatagramExchange {
  using resources = new Resources();
  const replies: DatagramReply[] = [];
  const received = { datagrams: 0, bytes: 0, ignored: 0 };
  try {
    const deadline = resources.hold(timer(host.poll, limits.deadlineMs));
    const channel = host.open(to, resources);
    const run: Run<P> = { poll: host.poll, resources, channel, readable: resources.hold(channel.readable()), deadline, from: formatSocketAddress(to), limits, received };
    for (const step of steps) {
      const startedAt = host.poll.now();
      for (const datagram of step.send) sendOne(run, datagram);
      const reply = collect(run, step.collect, startedAt);
      replies.push(reply);
      if (reply.end === 'limit' || reply.end === 'deadline') break;
    }
  } catch (error) {
    if (error instanceof SocketFault) throw new DatagramFault(error, replies, received.ignored);
    throw error;
  }
  return { replies, ignored: received.ignored };
}

/**
 * Sends one datagram once the socket takes it, never past the deadline: it waits while the socket gives no
 * permit, and again when a send went out with none sent (wasmtime 36 answers a fresh socket's first send so).
 */
function sendOne<P extends Disposable>(run: Run<P>, datagram: Uint8Array): void {
  const waitWritable = () => {
    run.writable ??= run.resources.hold(run.channel.writable());
    if (!run.poll.poll([run.writable, run.deadline]).includes(0)) throw new SocketFault('write', 'deadline');
  };
  for (;;) {
    while (run.channel.sendPermits() === 0) waitWritable();
    if (run.channel.send([datagram]) > 0) return;
    waitWritable();
  }
}

/** A pause before asking again a socket whose readiness brought nothing (see `collect`). */
const RECHECK_MS = 5;

/**
 * Waits for a datagram, the deadline or the quiet gap (`idleLeftMs`, when collecting ends on one): the end it
 * reached, or undefined when a datagram may have come. The deadline decides first: a socket that is always
 * ready never keeps a step past it.
 */
function waitForDatagrams<P extends Disposable>(run: Run<P>, idleLeftMs: number | undefined, recheck: boolean): DatagramEnd | undefined {
  const { poll } = run;
  using timers = new Resources();
  const idle = idleLeftMs === undefined ? undefined : timers.hold(timer(poll, idleLeftMs));
  const wake = recheck ? timers.hold(timer(poll, RECHECK_MS)) : run.readable;
  const ready = poll.poll(idle ? [run.deadline, wake, idle] : [run.deadline, wake]);
  if (ready.includes(0)) return 'deadline';
  if (idle && ready.includes(2)) return 'idle';
  return undefined;
}

const msSince = (poll: PollHost<Disposable>, at: bigint) => Number(poll.now() - at) / Number(NS_PER_MS);

/**
 * Collects datagrams from the remote address until `count` have come, `idleMs` has passed without one (counted
 * from the send), the deadline, or a cap of the whole dialogue. A datagram from any other address is dropped.
 */
function collect<P extends Disposable>(run: Run<P>, { count, idleMs }: DatagramStep['collect'], startedAt: bigint): DatagramReply {
  const { poll, channel, limits, received } = run;
  const datagrams: ReceivedDatagram[] = [];
  let quietSince = poll.now();
  const done = (end: DatagramEnd): DatagramReply => ({ datagrams, end, ms: msSince(poll, startedAt) });
  // Whether the last wake-up on `readable` brought nothing: a host whose pollable stays ready with nothing to
  // receive (preview2-shim 0.26, once the socket has an error it does not report) is then asked again after a
  // short pause, rather than in a loop that would spin until the deadline.
  let idleWake = false;
  for (;;) {
    const room = limits.maxDatagrams - received.datagrams;
    if (room <= 0) return done('limit');
    const arrived = channel.receive(count === undefined ? room : Math.min(room, count - datagrams.length));
    for (const datagram of arrived) {
      if (formatSocketAddress(datagram.from) !== run.from) {
        received.ignored++;
        continue;
      }
      const left = limits.maxReplyBytes - received.bytes;
      const bytes = datagram.data.length > left ? datagram.data.subarray(0, left) : datagram.data;
      datagrams.push({ bytes, atMs: msSince(poll, startedAt) });
      received.datagrams++;
      received.bytes += bytes.length;
      quietSince = poll.now();
      if (datagram.data.length > left || received.bytes === limits.maxReplyBytes) return done('limit');
      if (count !== undefined && datagrams.length >= count) return done('count');
    }
    if (arrived.length > 0) {
      idleWake = false;
      continue;
    }
    const end = waitForDatagrams(run, idleMs === undefined ? undefined : idleMs - msSince(poll, quietSince), idleWake);
    if (end) return done(end);
    idleWake = true;
  }
}
