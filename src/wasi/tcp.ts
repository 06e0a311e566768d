// The only module that touches wasi:sockets: name lookup, and opening a connection whose steps src/net runs.

import { instanceNetwork } from 'wasi:sockets/instance-network@0.2.12';
import { createTcpSocket } from 'wasi:sockets/tcp-create-socket@0.2.12';
import { resolveAddresses } from 'wasi:sockets/ip-name-lookup@0.2.12';
import { poll, type Pollable } from 'wasi:io/poll@0.2.12';
import { now, subscribeDuration } from 'wasi:clocks/monotonic-clock@0.2.12';
import type { IpSocketAddress } from 'wasi:sockets/network@0.2.12';
import { Resources } from '../core/resources.js';
import { wasiPayload } from '../core/wasi-payload.js';
import { awaitConnect, runSteps, timer } from '../net/connection.js';
import { SocketFault, wasiFault } from '../net/faults.js';
import type { IpAddress, SocketAddress } from '../net/ip.js';
import type { ConnectionLimits, Reply, Step, TcpNetwork } from '../net/network.js';
import type { PollHost } from '../net/streams.js';
import { wasiTls } from './tls.js';

/** The poll and clock every wait uses: the host's own. */
const WASI_POLL: PollHost<Pollable> = { poll, now, subscribeDuration };

function resolve(name: string, timeoutMs: number): IpAddress[] {
  using resources = new Resources();
  const network = resources.hold(instanceNetwork());
  let stream;
  try {
    stream = resources.hold(resolveAddresses(network, name));
  } catch (error) {
    throw wasiFault('resolve', error);
  }
  const ready = resources.hold(stream.subscribe());
  const deadline = resources.hold(timer(WASI_POLL, timeoutMs));
  const addresses: IpAddress[] = [];
  for (;;) {
    let next;
    try {
      next = stream.resolveNextAddress();
    } catch (error) {
      if (wasiPayload(error) !== 'would-block') throw wasiFault('resolve', error);
      if (!poll([ready, deadline]).includes(0)) throw new SocketFault('resolve', 'deadline');
      continue;
    }
    if (next === undefined) return addresses;
    addresses.push(next);
  }
}

function converse(to: SocketAddress, steps: readonly Step[], limits: ConnectionLimits): Reply[] {
  using resources = new Resources();
  const deadline = resources.hold(timer(WASI_POLL, limits.deadlineMs));
  const network = resources.hold(instanceNetwork());
  let socket;
  try {
    socket = resources.hold(createTcpSocket(to.address.tag));
    socket.startConnect(network, socketAddress(to));
  } catch (error) {
    throw wasiFault('connect', error);
  }
  const [input, output] = awaitConnect(WASI_POLL, resources, socket, limits, deadline);
  return runSteps(WASI_POLL, resources, { input, output }, steps, limits, deadline, wasiTls);
}

function socketAddress(to: SocketAddress): IpSocketAddress {
  return to.address.tag === 'ipv4'
    ? { tag: 'ipv4', val: { port: to.port, address: to.address.val } }
    : { tag: 'ipv6', val: { port: to.port, flowInfo: 0, scopeId: 0, address: to.address.val } };
}

/** Outbound TCP over `wasi:sockets`, with deadlines on `wasi:clocks/monotonic-clock`. */
export const wasiTcp: TcpNetwork = { nowMs: () => Number(now()) / 1e6, resolve, converse };
