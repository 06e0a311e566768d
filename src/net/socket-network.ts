// `TcpNetwork` built on the host's primitives (`SocketHost`): each dialogue opens one connection, runs its steps
// and releases everything it held, whatever happens. The host gives lookup, connect, poll and the TLS engine;
// the dialogue itself is this module's (connection.ts), so the same code runs over WASI and over the unit tests' fakes.

import { Resources } from '../core/resources.js';
import { Connection, awaitConnect, runSteps, timer } from './connection.js';
import type { ConnectionLimits, Reply, Step, TcpNetwork } from './dialogue.js';
import type { SocketAddress } from './ip.js';
import { NS_PER_MS, type SocketHost } from './streams.js';

/** Outbound TCP over `host`: its lookup, a connection per dialogue, deadlines on its monotonic clock. */
export function socketNetwork<P extends Disposable>(host: SocketHost<P>): TcpNetwork {
  return {
    nowMs: () => Number(host.poll.now()) / Number(NS_PER_MS),
    resolve: (name, timeoutMs) => host.resolve(name, timeoutMs),
    converse: (to, steps, limits) => converse(host, to, steps, limits),
  };
}

/** Connects to `to` and runs `steps` on that one connection; every resource is released before it returns or throws. */
function converse<P extends Disposable>(host: SocketHost<P>, to: SocketAddress, steps: readonly Step[], limits: ConnectionLimits): Reply[] {
  using resources = new Resources();
  const deadline = resources.hold(timer(host.poll, limits.deadlineMs));
  const socket = host.connect(to, resources);
  const [input, output] = awaitConnect(host.poll, resources, socket, limits, deadline);
  const connection = new Connection({ host: host.poll, resources, deadline, streams: { input, output }, tls: host.tls });
  return runSteps(connection, steps, limits);
}
