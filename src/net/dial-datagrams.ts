// `dialDatagrams`: one dialogue of datagrams for a parsed target, above the socket module, as `dial` is for TCP:
// resolve (with the default target's fallbacks), check the policy against every address, send to the first
// (IPv4 first: UDP has no handshake that could fail over to the next), map faults to service errors, and keep
// the transcript of what it did.

import { ServiceError } from '../core/errors.js';
import { type OutboundSettings, type TranscriptSoFar, checkedAddresses, fallbacksFor } from './dial.js';
import type { DatagramReply, DatagramStep, UdpNetwork } from './datagrams.js';
import { DatagramFault } from './datagram-network.js';
import type { Limits, TcpNetwork } from './dialogue.js';
import { fromSocketFault } from './faults.js';
import { type SocketAddress, formatSocketAddress } from './ip.js';
import { formatTarget, type Target } from './target.js';
import { type ConnectionRecord, failedWith, type Transcript } from './transcript.js';

/** The replies of every step, the address they came from, and the transcript of the dialogue. */
export interface DatagramDialogue {
  replies: DatagramReply[];
  address: SocketAddress;
  /** Datagrams dropped for coming from another address. */
  ignored: number;
  transcript: Transcript;
}

/**
 * Runs `steps` with `target` over UDP under the settings' policy; names resolve through `resolver` (the TCP
 * network's resolver: DNS_MODE and DNS_SERVERS as for TCP). A service error it throws carries the transcript.
 */
export function dialDatagrams(
  resolver: Pick<TcpNetwork, 'resolve'>,
  udp: UdpNetwork,
  settings: OutboundSettings,
  target: Target,
  steps: readonly DatagramStep[],
  limits: Limits,
): DatagramDialogue {
  const transcript: TranscriptSoFar = { target: formatTarget(target), tried: [], protocol: 'udp' };
  try {
    const addresses = checkedAddresses(resolver, { target, limits, policy: settings.policy, fallbackAddresses: fallbacksFor(target, settings) });
    const to = { address: addresses[0]!, port: target.port };
    const shownAddress = formatSocketAddress(to);
    transcript.tried.push(shownAddress);
    const caps = { deadlineMs: limits.requestDeadlineMs, maxReplyBytes: limits.maxReplyBytes, maxDatagrams: limits.maxDatagrams };
    try {
      const { replies, ignored } = udp.exchange(to, steps, caps);
      transcript.connection = datagramRecord(shownAddress, steps.slice(0, replies.length), replies, ignored);
      return { replies, address: to, ignored, transcript };
    } catch (error) {
      if (!(error instanceof DatagramFault)) throw error;
      if (error.fault.stage !== 'connect') transcript.connection = datagramRecord(shownAddress, steps.slice(0, error.replies.length + 1), error.replies, error.ignored);
      // The cause is the dialogue's fault, which carries the replies of the steps before it.
      const mapped = fromSocketFault(error.fault, formatTarget(target), shownAddress, 'udp');
      throw new ServiceError(mapped.code, mapped.message, { cause: error });
    }
  } catch (error) {
    throw error instanceof ServiceError ? failedWith(error, transcript) : error;
  }
}

/**
 * What went over the socket: the datagrams and bytes sent by the steps that ran (`ran`: after a fault, the one it
 * stopped counted whole, an upper bound) and those received.
 */
function datagramRecord(address: string, ran: readonly DatagramStep[], replies: readonly DatagramReply[], ignored: number): ConnectionRecord {
  const sentDatagrams = ran.flatMap((step) => step.send);
  const received = replies.flatMap((reply) => reply.datagrams);
  return {
    address,
    sent: sentDatagrams.reduce((sum, datagram) => sum + datagram.length, 0),
    received: received.reduce((sum, datagram) => sum + datagram.bytes.length, 0),
    ends: replies.map((reply) => reply.end),
    datagrams: { sent: sentDatagrams.length, received: received.length, ignored },
  };
}
