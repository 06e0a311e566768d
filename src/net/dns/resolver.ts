// Name resolution where the host refuses lookups: A and AAAA queries to the configured DNS servers, over UDP
// first (RFC 1035) and over TCP when UDP gives nothing usable (RFC 7766: a truncated answer, UDP refused), or
// over TCP only.

import { LENGTH_PREFIX_BYTES } from './length-frame.js';
import { type Answer, type AddressType, DnsReplyError, MAX_DNS_MESSAGE_BYTES, type Question, decodeDatagramReply, decodeReply, encodeDatagramQuery, encodeQuery } from './message.js';
import type { UdpNetwork } from '../datagrams.js';
import { DatagramFault } from '../datagram-network.js';
import { concatBytes } from '../../core/bytes.js';
import { ServiceError } from '../../core/errors.js';
import { SocketFault, fromSocketFault, isLookupRefused } from '../faults.js';
import { type IpAddress, type SocketAddress, formatSocketAddress } from '../ip.js';
import type { Reply, TcpNetwork } from '../dialogue.js';


/**
 * How names are resolved: `system` asks the host only; `tcp` asks `servers` over TCP only; `udp` asks `servers`
 * over UDP, then TCP where UDP gives nothing usable; `auto` asks the host, and `servers` as `udp` does when the
 * host refuses lookups (Spin, wasmtime without allow-ip-name-lookup).
 */
export type DnsMode = 'auto' | 'system' | 'tcp' | 'udp';

/** DNS_MODE and DNS_SERVERS: the resolution route, and the servers to ask in order. */
export interface DnsSettings {
  mode: DnsMode;
  servers: SocketAddress[];
}
/** Longest wait for one query's connection and reply, so a silent server leaves time for the next one. */
export const DNS_QUERY_TIMEOUT_MS = 2_000;
/**
 * Longest wait for the UDP answers before the same questions go over TCP: a server answers in far less, and a
 * datagram lost (or a host that hides ICMP unreachable, as preview2-shim does) costs no more than this.
 */
export const DNS_UDP_WAIT_MS = 500;

/** Both families are asked for, IPv4 first, so the destination policy sees every address the name has. */
const TYPES: readonly AddressType[] = ['A', 'AAAA'];

/** A fresh random 16-bit query id (RFC 5452): a reply must echo it. */
function randomQueryId(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

/**
 * `network` with names resolved as DNS_MODE says: by the host, by DNS_SERVERS (over TCP, or UDP first when
 * `udp` is given), or by the host and DNS_SERVERS when the host refuses lookups. The DNS queries are operator
 * configuration, not a caller's destination, so the destination policy does not apply to them; the host's
 * sandbox does.
 */
export function withDnsServers(network: TcpNetwork, udp: UdpNetwork | undefined, settings: () => DnsSettings): TcpNetwork {
  return {
    nowMs: () => network.nowMs(),
    converse: (to, steps, limits) => network.converse(to, steps, limits),
    resolve(name, timeoutMs) {
      const { mode, servers } = settings();
      const byServers = () => resolveWithServers(network, name, servers, timeoutMs, randomQueryId, mode === 'tcp' ? undefined : udp);
      if (mode === 'tcp' || mode === 'udp') return byServers();
      try {
        return network.resolve(name, timeoutMs);
      } catch (error) {
        if (mode === 'auto' && servers.length > 0 && error instanceof SocketFault && isLookupRefused(error)) return byServers();
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

/** What one server said to one question: an answer (addresses, possibly none, or NXDOMAIN), or why it said nothing usable. */
type Outcome = Answer | ServerFailure;

/**
 * Asks each server in turn for `name`'s A and AAAA records until one gives something usable, within `timeoutMs`:
 * with `udp`, both as datagrams first, and over TCP (both on one connection) unless both came back usable. The
 * addresses of whichever question was answered are used (a server that answers A but refuses AAAA, as dnsmasq
 * does without `--local`, still resolves the name). NXDOMAIN is final, and so is
 * a clean answer with no A and no AAAA record (502 name-unresolvable); when no server gives anything usable, the
 * result is 504 resolve-timeout if every one stayed silent, else 502 resolver-failure naming each failure.
 */
export function resolveWithServers(
  network: TcpNetwork,
  name: string,
  servers: SocketAddress[],
  timeoutMs: number,
  queryId: () => number = randomQueryId,
  udp?: UdpNetwork,
): IpAddress[] {
  const startedAt = network.nowMs();
  const left = () => timeoutMs - (network.nowMs() - startedAt);
  const failures: ServerFailure[] = [];
  for (const server of servers) {
    const shown = formatSocketAddress(server);
    if (left() <= 0) {
      failures.push(new ServerFailure(shown, true, 'was not asked: no time was left'));
      continue;
    }
    const outcomes = (udp && askOverUdp(udp, server, name, queryId, left)) || askBoth(network, server, name, queryId, left);
    const answers = TYPES.map((type) => outcomes.get(type)!);
    const addresses = answers.flatMap((outcome) => (outcome instanceof ServerFailure || outcome.kind !== 'addresses' ? [] : outcome.addresses));
    if (addresses.length > 0) return addresses;
    if (answers.some((outcome) => !(outcome instanceof ServerFailure) && outcome.kind === 'no-such-name')) {
      throw new ServiceError('name-unresolvable', `the name ${name} does not exist (NXDOMAIN from DNS server ${shown})`);
    }
    const failed = answers.filter((outcome): outcome is ServerFailure => outcome instanceof ServerFailure);
    if (failed.length === 0) {
      throw new ServiceError('name-unresolvable', `the name ${name} has no A and no AAAA record (DNS server ${shown} answered both with none)`);
    }
    failures.push(new ServerFailure(shown, failed.every((f) => f.timeout), failed.map((f) => f.reason).join(', and ')));
  }
  const tried = failures.map((f) => f.message).join('; ');
  if (failures.every((f) => f.timeout)) {
    throw new ServiceError('resolve-timeout', `resolving ${name} over TCP did not finish in time: DNS server ${tried}`);
  }
  throw new ServiceError('resolver-failure', `resolving ${name} over TCP failed: DNS server ${tried}`);
}

/** The limits of one DNS connection: a bounded wait, and at most two messages of the largest size. */
function dnsLimits(timeoutMs: number, messages: number) {
  return { connectTimeoutMs: timeoutMs, deadlineMs: timeoutMs, maxReplyBytes: messages * (LENGTH_PREFIX_BYTES + MAX_DNS_MESSAGE_BYTES) };
}

/** The A and the AAAA question for `name`, with ids of their own: two queries in flight need distinct ids to tell their replies apart. */
function bothQuestions(name: string, queryId: () => number): Question[] {
  const first = queryId();
  let second = queryId();
  while (second === first) second = queryId();
  return [
    { id: first, name, type: 'A' },
    { id: second, name, type: 'AAAA' },
  ];
}

/**
 * Both questions on one connection, written at once, their replies matched by id (RFC 7766 §6.2.1.1): a
 * server may answer in any order. A server that closes after its first answer (RFC 7766 allows it) is asked the
 * other question on a new connection. Returns an outcome for each type.
 */
function askBoth(network: TcpNetwork, server: SocketAddress, name: string, queryId: () => number, left: () => number): Map<AddressType, Outcome> {
  const shown = formatSocketAddress(server);
  const questions = bothQuestions(name, queryId);
  const waitMs = Math.min(DNS_QUERY_TIMEOUT_MS, left());
  const queries = questions.map(encodeQuery);
  let replies: Reply[];
  let fault: SocketFault | undefined;
  try {
    // A length-prefixed read ends when one message is complete: two reads, one reply each. A server that
    // pauses inside a reply is waited for until the deadline, never cut by a quiet gap.
    replies = network.converse(
      server,
      [
        { send: concatBytes(queries, queries[0]!.length + queries[1]!.length), read: { lengthPrefixed: true } },
        { send: new Uint8Array(0), read: { lengthPrefixed: true } },
      ],
      dnsLimits(waitMs, 2),
    );
  } catch (error) {
    if (!(error instanceof SocketFault)) throw error;
    fault = error;
    replies = error.replies;
  }
  const outcomes = new Map<AddressType, Outcome>();
  let closedEarly = false;
  for (const reply of replies) {
    if (reply.end === 'closed' && reply.bytes.length === 0) {
      closedEarly = true;
      continue;
    }
    if (reply.end !== 'complete') {
      const failure =
        reply.end === 'deadline'
          ? new ServerFailure(shown, true, `did not finish its reply within ${waitMs} ms`)
          : new ServerFailure(shown, false, `closed the connection after ${reply.bytes.length} bytes, before its reply was complete`);
      for (const question of questions) if (!outcomes.has(question.type)) outcomes.set(question.type, failure);
      break;
    }
    const id = reply.bytes.length >= LENGTH_PREFIX_BYTES + 2 ? (reply.bytes[2]! << 8) | reply.bytes[3]! : -1;
    const question = questions.find((q) => q.id === id && !outcomes.has(q.type)) ?? questions.find((q) => !outcomes.has(q.type))!;
    outcomes.set(question.type, decode(reply.bytes, question, shown));
  }
  const missing = questions.filter((q) => !outcomes.has(q.type));
  const answeredOne = missing.length === 1;
  for (const question of missing) {
    if (answeredOne && (closedEarly || (fault && fault.code !== 'deadline' && fault.stage === 'read')) && left() > 0) {
      // The server closed (or reset) after its first answer: the other question on a connection of its own.
      outcomes.set(question.type, askOne(network, server, { ...question, id: queryId() }, Math.min(DNS_QUERY_TIMEOUT_MS, left())));
    } else if (closedEarly) {
      outcomes.set(question.type, new ServerFailure(shown, false, `closed the connection without answering the ${question.type} query`));
    } else if (!fault || fault.code === 'deadline') {
      outcomes.set(question.type, new ServerFailure(shown, true, `did not answer the ${question.type} query within ${waitMs} ms`));
    } else {
      outcomes.set(question.type, new ServerFailure(shown, false, `failed: ${fromSocketFault(fault, shown).message}`));
    }
  }
  return outcomes;
}

/**
 * Both questions as datagrams to `server`, each with an id of its own, on a socket of their own (connected:
 * only the server's datagrams come back); a reply counts only for the question whose id and question it
 * carries. Undefined unless both came back usable: then the same questions go over TCP (a truncated answer,
 * UDP refused or unreachable, silence, a reply that is not an answer).
 */
function askOverUdp(udp: UdpNetwork, server: SocketAddress, name: string, queryId: () => number, left: () => number): Map<AddressType, Outcome> | undefined {
  const questions = bothQuestions(name, queryId);
  let replies;
  try {
    const caps = { deadlineMs: Math.min(DNS_UDP_WAIT_MS, left()), maxReplyBytes: 2 * MAX_DNS_MESSAGE_BYTES, maxDatagrams: 2 };
    replies = udp.exchange(server, [{ send: questions.map(encodeDatagramQuery), collect: { count: 2 } }], caps).replies;
  } catch (error) {
    if (error instanceof DatagramFault) return undefined;
    throw error;
  }
  const outcomes = new Map<AddressType, Outcome>();
  for (const { bytes } of replies[0]?.datagrams ?? []) {
    const id = bytes.length >= 2 ? (bytes[0]! << 8) | bytes[1]! : -1;
    const question = questions.find((q) => q.id === id && !outcomes.has(q.type));
    if (!question) continue;
    try {
      outcomes.set(question.type, decodeDatagramReply(bytes, question));
    } catch (error) {
      if (error instanceof DnsReplyError) return undefined;
      throw error;
    }
  }
  return outcomes.size === questions.length ? outcomes : undefined;
}

/** One question on its own connection. */
function askOne(network: TcpNetwork, server: SocketAddress, question: Question, timeoutMs: number): Outcome {
  const shown = formatSocketAddress(server);
  let reply: Reply;
  try {
    reply = network.converse(server, [{ send: encodeQuery(question), read: { lengthPrefixed: true } }], dnsLimits(timeoutMs, 1))[0]!;
  } catch (error) {
    if (!(error instanceof SocketFault)) throw error;
    if (error.code === 'deadline') return new ServerFailure(shown, true, `did not answer the ${question.type} query within ${timeoutMs} ms`);
    return new ServerFailure(shown, false, `failed: ${fromSocketFault(error, shown).message}`);
  }
  if (reply.end === 'deadline') return new ServerFailure(shown, true, `did not finish its reply to the ${question.type} query within ${timeoutMs} ms`);
  if (reply.end !== 'complete') return new ServerFailure(shown, false, `closed the connection after ${reply.bytes.length} bytes, before its reply was complete`);
  return decode(reply.bytes, question, shown);
}

/** The answer in a complete reply, or why it cannot be used. */
function decode(framed: Uint8Array, question: Question, shown: string): Outcome {
  try {
    return decodeReply(framed, question);
  } catch (error) {
    if (!(error instanceof DnsReplyError)) throw error;
    return new ServerFailure(shown, false, `sent an unusable reply to the ${question.type} query: ${error.message}`);
  }
}
