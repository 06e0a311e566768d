// `dial`: one outbound dialogue for a parsed target, above the socket module: resolve (with the default target's
// fallbacks), check the policy against every address, try each in turn through `TcpNetwork`, map faults to
// service errors, and keep the transcript of what it did. The socket module below it (src/wasi/tcp.ts, or a
// fake) runs the connection itself.

import type { DestinationCheck } from './policy.js';
import { ServiceError } from '../core/errors.js';
import { SocketFault, fromSocketFault, isLookupRefused } from './faults.js';
import { type IpAddress, type SocketAddress, canonicalAddress, formatIp, formatSocketAddress } from './ip.js';
import { formatTarget, type Target } from './target.js';
import type { Limits, Reply, Step, TcpNetwork } from './dialogue.js';
import { TlsFault, fromTlsFault } from './tls/faults.js';
import { type ConnectionRecord, failedWith, type Transcript } from './transcript.js';
import { checkSecretDestinations, type Secret, secretsOf } from './secrets.js';
import { redactReplies } from './redaction.js';

/** The replies of every step, the address they came from, and the transcript of the dialogue. */
export interface Dialogue {
  replies: Reply[];
  address: SocketAddress;
  transcript: Transcript;
}

/** A transcript as the dialogue writes it: the addresses tried so far, the connection once one opened. */
export interface TranscriptSoFar {
  readonly target: string;
  readonly tried: string[];
  readonly protocol?: 'udp';
  readonly secrets?: readonly string[];
  connection?: ConnectionRecord;
  redacted?: true;
}

/** What a connection needs of the settings: the destination policy, and the default target with its fallback addresses. */
export interface OutboundSettings {
  readonly policy: DestinationCheck;
  readonly defaultTarget: { readonly host: string; readonly fallbackAddresses: IpAddress[] };
}

/**
 * Runs `steps` on one connection to `target` under the settings' policy; `limits` are the request's (the settings',
 * possibly narrowed). A service error it throws carries the transcript (`transcriptOf`); any other throw is a
 * fault of the service itself and passes as it is.
 */
export function dial(network: TcpNetwork, settings: OutboundSettings, target: Target, steps: readonly Step[], limits: Limits): Dialogue {
  const secrets = secretsOf(steps);
  const names = secrets.map((secret) => secret.name);
  const transcript: TranscriptSoFar = { target: formatTarget(target), tried: [], ...(names.length > 0 && { secrets: names }) };
  try {
    const fallbackAddresses = fallbacksFor(target, settings);
    return { ...dialogueWithTarget(network, { target, steps, secrets, limits, policy: settings.policy, fallbackAddresses, transcript }), transcript };
  } catch (error) {
    throw error instanceof ServiceError ? failedWith(error, transcript) : error;
  }
}

/**
 * The connection as the dialogue left it: the replies that completed, and the bytes sent by the steps that ran,
 * counting the one a read fault stopped (its send was written). TLS is named for a dialogue that completed.
 */
function connectionRecord(address: string, steps: readonly Step[], replies: readonly Reply[], fault?: SocketFault | TlsFault): ConnectionRecord {
  const ran = steps.slice(0, replies.length + (fault instanceof SocketFault && fault.stage === 'read' ? 1 : 0));
  const agreed = fault ? undefined : replies.find((reply) => reply.tls)?.tls;
  return {
    address,
    sent: ran.reduce((sum, step) => sum + step.send.length, 0),
    received: replies.reduce((sum, reply) => sum + reply.bytes.length, 0),
    ends: replies.map((reply) => reply.end),
    ...(agreed && { tls: { version: agreed.version, serverName: tlsServerName(steps) } }),
  };
}

/**
 * `replies` with the bytes of every secret of `secrets` (those the steps send) replaced by its marker, the
 * replies read as one stream; each reply that lost bytes says so (`redacted`).
 */
function redacted(replies: Reply[], secrets: readonly Secret[], transcript: TranscriptSoFar): Reply[] {
  if (secrets.length === 0) return replies;
  const redaction = redactReplies(
    replies.map((reply) => reply.bytes),
    secrets,
  );
  if (redaction.redacted) transcript.redacted = true;
  return replies.map((reply, i) => (redaction.redactedSteps[i] ? { ...reply, bytes: redaction.replies[i]!, redacted: true } : reply));
}

/** Fallback addresses apply to the default target's name only, whichever endpoint names it. */
export function fallbacksFor(target: Target, settings: OutboundSettings): IpAddress[] {
  if (target.kind !== 'name') return [];
  const defaults = settings.defaultTarget;
  return target.host === defaults.host ? defaults.fallbackAddresses : [];
}

/** Failures of DNS over TCP after which the default target's fallback addresses still apply (not NXDOMAIN). */
const DNS_SERVERS_FAILED: ReadonlySet<string> = new Set(['resolver-failure', 'resolve-timeout']);

/**
 * Connects to `target` and runs `steps` (send, then read) on that connection, if the policy allows every address.
 * Names are resolved through the network; when no resolver answers (the host refuses lookups, and DNS
 * over TCP, if configured, fails), `fallbackAddresses` (configured for the default target) are used.
 * Addresses are tried in order, IPv4 first, until one connects; a failure after connecting is final.
 */
function dialogueWithTarget(
  network: TcpNetwork,
  {
    target,
    steps,
    secrets,
    limits,
    policy,
    fallbackAddresses = [],
    transcript,
  }: {
    target: Target;
    steps: readonly Step[];
    /** The secrets the steps send (`secretsOf`): what the replies are redacted of. */
    secrets: readonly Secret[];
    limits: Limits;
    policy: DestinationCheck;
    fallbackAddresses?: IpAddress[];
    transcript: TranscriptSoFar;
  },
): Omit<Dialogue, 'transcript'> {
  const startedAt = network.nowMs();
  const timeLeft = () => limits.requestDeadlineMs - (network.nowMs() - startedAt);
  const shown = formatTarget(target);
  const addresses = checkedAddresses(network, { target, limits, policy, fallbackAddresses });
  checkSecretDestinations(steps, target, addresses);
  let lastFault: { fault: SocketFault; address: string } | undefined;
  for (const address of addresses) {
    const to = { address, port: target.port };
    const deadlineMs = timeLeft();
    if (deadlineMs <= 0) break;
    const shownAddress = formatSocketAddress(to);
    transcript.tried.push(shownAddress);
    try {
      const { connectTimeoutMs, maxReplyBytes } = limits;
      const replies = network.converse(to, steps, { connectTimeoutMs, maxReplyBytes, deadlineMs });
      transcript.connection = connectionRecord(shownAddress, steps, replies);
      return { replies: redacted(replies, secrets, transcript), address: to };
    } catch (error) {
      if (!(error instanceof SocketFault || error instanceof TlsFault)) throw error;
      // A failure after connecting is final, a TLS failure included (it always comes after connecting).
      const connected = !(error instanceof SocketFault && error.stage === 'connect');
      if (connected) transcript.connection = connectionRecord(shownAddress, steps, error.replies, error);
      if (error instanceof TlsFault) throw redactedFault(fromTlsFault(error, atAddress(shown, shownAddress), tlsServerName(steps)), error, secrets, transcript);
      lastFault = { fault: error, address: shownAddress };
      if (connected) break;
    }
  }
  if (!lastFault) throw fromSocketFault(new SocketFault('connect', 'deadline'), shown);
  const mapped = redactedFault(fromSocketFault(lastFault.fault, shown, lastFault.address), lastFault.fault, secrets, transcript);
  throw addresses.length > 1 && lastFault.fault.stage === 'connect' ? mapped.amended({ suffix: ` (tried ${addresses.length} addresses)` }) : mapped;
}

/**
 * `mapped` (the service error of `fault`), once the replies the fault carries, which the caller is shown as the
 * steps completed before it, are redacted; the message, made before, counts the bytes as they were received.
 */
function redactedFault(mapped: ServiceError, fault: SocketFault | TlsFault, secrets: readonly Secret[], transcript: TranscriptSoFar): ServiceError {
  fault.replies = redacted(fault.replies, secrets, transcript);
  return mapped;
}

/**
 * The addresses `target` stands for, each allowed by `policy`: resolved through the network (with the default
 * target's fallbacks), each once, IPv4 first. Every address is checked before any is tried, and only checked
 * addresses are connected to: a name that resolves to one denied address is refused whole (DNS rebinding,
 * split answers).
 */
export function checkedAddresses(
  network: Pick<TcpNetwork, 'resolve'>,
  { target, limits, policy, fallbackAddresses }: { target: Target; limits: Limits; policy: DestinationCheck; fallbackAddresses: IpAddress[] },
): IpAddress[] {
  const addresses = addressesOf(network, target, Math.min(limits.connectTimeoutMs, limits.requestDeadlineMs), fallbackAddresses).map(canonicalAddress);
  if (addresses.length === 0) throw new ServiceError('name-unresolvable', `the name in ${formatTarget(target)} resolved to no addresses`);
  policy.check(target, addresses);
  return addresses;
}

/** The target as shown, with the address connected to when it differs (as network errors show it). */
function atAddress(target: string, address: string): string {
  return address !== target ? `${target} (${address})` : target;
}

/** The name the certificate was checked against: the one step that starts TLS names it. */
function tlsServerName(steps: readonly Step[]): string {
  return steps.find((step) => step.tls)?.tls?.serverName ?? '';
}

function addressesOf(network: Pick<TcpNetwork, 'resolve'>, target: Target, timeoutMs: number, fallbackAddresses: IpAddress[]): IpAddress[] {
  if (target.kind === 'ip') return [target.address];
  let resolved: IpAddress[];
  try {
    resolved = network.resolve(target.host, timeoutMs);
  } catch (error) {
    // The last resort, when no resolver could answer: the host refuses lookups and DNS_SERVERS, if set, failed.
    const unanswered = error instanceof SocketFault ? isLookupRefused(error) : error instanceof ServiceError && DNS_SERVERS_FAILED.has(error.code);
    if (fallbackAddresses.length > 0 && unanswered) {
      resolved = fallbackAddresses;
    } else {
      throw error instanceof SocketFault ? fromSocketFault(error, formatTarget(target)) : error;
    }
  }
  // Each address once; IPv4 first, each family in the resolver's order (a stable sort).
  const unique = [...new Map(resolved.map((a) => [formatIp(a), a])).values()];
  return unique.sort((a, b) => (a.tag === b.tag ? 0 : a.tag === 'ipv4' ? -1 : 1));
}
