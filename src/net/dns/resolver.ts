// Name resolution where the host refuses lookups: A and AAAA queries over TCP to the configured DNS servers.

import { type AddressType, DnsReplyError, LENGTH_PREFIX_BYTES, MAX_DNS_MESSAGE_BYTES, decodeReply, encodeQuery } from './message.js';
import { ServiceError } from '../../core/errors.js';
import { SocketFault, fromSocketFault, isLookupRefused } from '../faults.js';
import { type IpAddress, type SocketAddress, formatSocketAddress } from '../ip.js';
import type { TcpNetwork } from '../network.js';


/**
 * How names are resolved: `system` asks the host only; `tcp` asks `servers` over TCP only; `auto` asks the
 * host, and `servers` over TCP when the host refuses lookups (Spin, wasmtime without allow-ip-name-lookup).
 */
export type DnsMode = 'auto' | 'system' | 'tcp';

/** DNS_MODE and DNS_SERVERS: the resolution route, and the servers to ask in order. */
export interface DnsSettings {
  mode: DnsMode;
  servers: SocketAddress[];
}
/** Longest wait for one query's connection and reply, so a silent server leaves time for the next one. */
export const DNS_QUERY_TIMEOUT_MS = 2_000;

/** Both families are asked for, IPv4 first, so the destination policy sees every address the name has. */
const TYPES: readonly AddressType[] = ['A', 'AAAA'];

/** A fresh random 16-bit query id (RFC 5452): a reply must echo it. */
function randomQueryId(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

/**
 * `network` with names resolved as DNS_MODE says: by the host, over TCP to DNS_SERVERS, or by the host
 * and over TCP when the host refuses lookups. The DNS connections are operator configuration, not a
 * caller's destination, so the destination policy does not apply to them; the host's sandbox does.
 */
export function withDnsServers(network: TcpNetwork, settings: () => DnsSettings): TcpNetwork {
  return {
    nowMs: () => network.nowMs(),
    exchange: (to, steps, limits) => network.exchange(to, steps, limits),
    resolve(name, timeoutMs) {
      const { mode, servers } = settings();
      if (mode === 'tcp') return resolveOverTcp(network, name, servers, timeoutMs);
      try {
        return network.resolve(name, timeoutMs);
      } catch (error) {
        if (mode === 'auto' && servers.length > 0 && error instanceof SocketFault && isLookupRefused(error)) {
          return resolveOverTcp(network, name, servers, timeoutMs);
        }
        throw error;
      }
    },
  };
}

/** Why one server gave no answer: `timeout` when it stayed silent, else what went wrong. */
class ServerFailure extends Error {
  constructor(
    readonly server: string,
    readonly timeout: boolean,
    readonly reason: string,
  ) {
    super(`${server} ${reason}`);
  }
}

/**
 * Asks each server in turn for `name`'s A and AAAA records until one answers both, within `timeoutMs`.
 * NXDOMAIN from a server is final (502 name-unresolvable); when no server answers, the result is 504
 * resolve-timeout if every one stayed silent, else 502 resolver-failure naming each failure.
 */
export function resolveOverTcp(
  network: TcpNetwork,
  name: string,
  servers: SocketAddress[],
  timeoutMs: number,
  queryId: () => number = randomQueryId,
): IpAddress[] {
  const startedAt = network.nowMs();
  const failures: ServerFailure[] = [];
  for (const server of servers) {
    const shown = formatSocketAddress(server);
    try {
      const addresses: IpAddress[] = [];
      for (const type of TYPES) {
        const left = timeoutMs - (network.nowMs() - startedAt);
        if (left <= 0) throw new ServerFailure(shown, true, 'was not asked: no time was left');
        addresses.push(...query(network, server, { id: queryId(), name, type }, Math.min(DNS_QUERY_TIMEOUT_MS, left)));
      }
      return addresses;
    } catch (error) {
      if (!(error instanceof ServerFailure)) throw error;
      failures.push(error);
    }
  }
  const tried = failures.map((f) => f.message).join('; ');
  if (failures.every((f) => f.timeout)) {
    throw new ServiceError('resolve-timeout', `resolving ${name} over TCP did not finish in time: DNS server ${tried}`);
  }
  throw new ServiceError('resolver-failure', `resolving ${name} over TCP failed: DNS server ${tried}`);
}

/** One query on its own connection. Throws a `ServerFailure`, or a `ServiceError` for NXDOMAIN. */
function query(network: TcpNetwork, server: SocketAddress, question: { id: number; name: string; type: AddressType }, timeoutMs: number): IpAddress[] {
  const shown = formatSocketAddress(server);
  const fail = (timeout: boolean, reason: string) => new ServerFailure(shown, timeout, reason);
  let reply;
  try {
    // A length-prefixed read ends when the message is complete: a server that pauses inside a reply is
    // waited for until the query's deadline, never cut by a quiet gap.
    reply = network.exchange(server, [{ send: encodeQuery(question), read: { lengthPrefixed: true } }], {
      connectTimeoutMs: timeoutMs,
      deadlineMs: timeoutMs,
      maxReplyBytes: LENGTH_PREFIX_BYTES + MAX_DNS_MESSAGE_BYTES,
    })[0]!;
  } catch (error) {
    if (!(error instanceof SocketFault)) throw error;
    if (error.code === 'deadline') throw fail(true, `did not answer the ${question.type} query within ${timeoutMs} ms`);
    throw fail(false, `failed: ${fromSocketFault(error, shown).message}`);
  }
  if (reply.end === 'deadline') throw fail(true, `did not finish its reply to the ${question.type} query within ${timeoutMs} ms`);
  if (reply.end !== 'complete') throw fail(false, `closed the connection after ${reply.bytes.length} bytes, before its reply was complete`);
  let answer;
  try {
    answer = decodeReply(reply.bytes, question);
  } catch (error) {
    if (!(error instanceof DnsReplyError)) throw error;
    throw fail(false, `sent an unusable reply to the ${question.type} query: ${error.message}`);
  }
  if (answer.kind === 'no-such-name') {
    throw new ServiceError('name-unresolvable', `the name ${question.name} does not exist (NXDOMAIN from DNS server ${shown})`);
  }
  return answer.addresses;
}
