// A scripted stand-in for the socket module, for unit tests of everything above it.

import { SocketFault } from '../../src/net/faults.js';
import { SecretMessage } from '../../src/net/secrets.js';
import { formatSocketAddress, type IpAddress, type SocketAddress } from '../../src/net/ip.js';
import type { ConnectionLimits, Reply, Step, TcpNetwork } from '../../src/net/dialogue.js';

/** A scripted reply; `ms` defaults to 1. */
export type FakeReply = Omit<Reply, 'ms'> & { ms?: number };

export interface FakeCall {
  to: string;
  /** What the first step sent, as text. */
  message: string;
  steps: readonly Step[];
  limits: ConnectionLimits;
}

/** A monotonic clock that moves only when a test (or a scripted peer) says so: deadlines come out exact. */
export interface VirtualClock {
  nowMs(): number;
  advance(ms: number): void;
}

/** A virtual clock at 0 ms. */
export function virtualClock(): VirtualClock {
  let now = 0;
  return {
    nowMs: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

/**
 * `names` maps a name to its addresses or to the fault its lookup throws; `peers` maps `addr:port`
 * to a reply or a fault (a function answers each step's message, or throws the fault that step meets). Unknown addresses refuse the connection.
 * Time is a virtual clock (a fresh one at 0 unless `clock` is given): it stands still unless moved.
 */
export function fakeNetwork(options: {
  names?: Record<string, IpAddress[] | SocketFault>;
  peers?: Record<string, FakeReply | SocketFault | ((message: string, bytes: Uint8Array) => FakeReply)>;
  clock?: VirtualClock;
}) {
  const clock = options.clock ?? virtualClock();
  const calls: FakeCall[] = [];
  const lookups: string[] = [];
  const network: TcpNetwork = {
    nowMs: () => clock.nowMs(),
    resolve(name) {
      lookups.push(name);
      const entry = options.names?.[name];
      if (entry === undefined) throw new SocketFault('resolve', 'name-unresolvable');
      if (entry instanceof SocketFault) throw entry;
      return entry;
    },
    converse(to: SocketAddress, steps: readonly Step[], limits: ConnectionLimits): Reply[] {
      const key = formatSocketAddress(to);
      const texts = steps.map((step) => new TextDecoder().decode(bytesOf(step.send)));
      calls.push({ to: key, message: texts[0] ?? '', steps, limits });
      const peer = options.peers?.[key];
      if (peer === undefined) throw new SocketFault('connect', 'connection-refused');
      if (peer instanceof SocketFault) throw peer;
      const replies: Reply[] = [];
      for (const [i, step] of steps.entries()) {
        try {
          replies.push({ ms: 1, ...(typeof peer === 'function' ? peer(texts[i]!, bytesOf(step.send)) : peer) });
        } catch (error) {
          // A fault in a later step carries the replies before it, as the socket module's does.
          if (error instanceof SocketFault) error.replies = replies;
          throw error;
        }
      }
      return replies;
    },
  };
  return { network, calls, lookups, clock };
}

/** The bytes a step sends, as the peer receives them: a message holding secrets put together. */
export const bytesOf = (send: Step['send']): Uint8Array => (send instanceof SecretMessage ? send.assemble() : send);

export const v4 = (a: number, b: number, c: number, d: number): IpAddress => ({ tag: 'ipv4', val: [a, b, c, d] });
export const reply = (text: string, end: Reply['end'] = 'closed'): Reply => ({ bytes: new TextEncoder().encode(text), end, ms: 1 });
