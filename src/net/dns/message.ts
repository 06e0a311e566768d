// DNS messages over TCP (RFC 1035 §4.2.2) and UDP (§4.2.1): an A or AAAA query out, the addresses of the matching answer in.

import { Buffer } from 'buffer';
import * as dnsPacket from 'dns-packet';
import { type IpAddress, canonicalAddress, parsePlainIp } from '../ip.js';
import { canonicalName } from '../target.js';
import { LENGTH_PREFIX_BYTES } from './length-frame.js';

/** The record types a name is resolved with. */
export type AddressType = 'A' | 'AAAA';

/** What was asked: the reply must carry the same id, name and type. */
export interface Question {
  id: number;
  name: string;
  type: AddressType;
}

/** A DNS message over TCP is preceded by its length in 2 bytes: no message is longer than this. */
export const MAX_DNS_MESSAGE_BYTES = 65_535;

/** CNAME hops followed within one answer; a longer chain is treated as a loop. */
export const MAX_CNAME_HOPS = 16;

/** The outcome of a well-formed reply: the name's addresses of the asked type (possibly none), or NXDOMAIN. */
export type Answer = { kind: 'addresses'; addresses: IpAddress[] } | { kind: 'no-such-name' };

/** A reply that cannot be used: malformed, not an answer to the question, or a server-side failure. */
export class DnsReplyError extends Error {
  override readonly name = 'DnsReplyError';
}

/** The query message for `question`: recursion desired, one question of class IN. */
const queryPacket = ({ id, name, type }: Question): dnsPacket.Packet => ({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });

/** The query for `question`, with its length prefix, ready to write to a TCP connection. */
export function encodeQuery(question: Question): Uint8Array {
  const encoded = dnsPacket.streamEncode(queryPacket(question));
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/** The query for `question` as one UDP datagram (RFC 1035 §4.2.1): the message without a length prefix. */
export function encodeDatagramQuery(question: Question): Uint8Array {
  const encoded = dnsPacket.encode(queryPacket(question));
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

const sameName = (a: string, b: string) => canonicalName(a) === canonicalName(b);

/**
 * Reads a length-prefixed reply to `question`. Only the question and answer sections are used (never the
 * authority or additional records, which a resolver need not vouch for); CNAMEs are followed from the
 * asked name within the answer. Throws `DnsReplyError` for anything but a clean answer or NXDOMAIN.
 */
export function decodeReply(framed: Uint8Array, question: Question): Answer {
  if (framed.length < LENGTH_PREFIX_BYTES) throw new DnsReplyError(`the reply is ${framed.length} bytes, shorter than its length prefix`);
  const length = (framed[0]! << 8) | framed[1]!;
  if (framed.length !== LENGTH_PREFIX_BYTES + length) {
    throw new DnsReplyError(`the reply announces ${length} bytes but ${framed.length - LENGTH_PREFIX_BYTES} follow its length prefix`);
  }
  return decodeDatagramReply(framed.subarray(LENGTH_PREFIX_BYTES), question);
}

/**
 * Reads a reply message without a length prefix: one UDP datagram (RFC 1035 §4.2.1), or what follows the prefix
 * over TCP. The same rules as `decodeReply`; a truncated one (TC) is refused.
 */
export function decodeDatagramReply(message: Uint8Array, question: Question): Answer {
  const length = message.length;
  const body = Buffer.from(message.buffer, message.byteOffset, length);
  // dns-packet decodes the response and operation codes to names its types do not declare.
  let reply: dnsPacket.DecodedPacket & { rcode?: string; opcode?: string };
  try {
    reply = dnsPacket.decode(body);
  } catch (error) {
    throw new DnsReplyError(`the reply is malformed (${error instanceof Error ? error.message : String(error)})`);
  }
  // A record whose data length disagrees with its type leaves the decoder off the message's end.
  if (dnsPacket.decode.bytes !== length) throw new DnsReplyError(`the reply is malformed (${length - dnsPacket.decode.bytes} bytes unaccounted for)`);
  if (reply.type !== 'response') throw new DnsReplyError('the message is a query, not a reply');
  if (reply.opcode !== 'QUERY') throw new DnsReplyError('the reply is not to a standard query');
  if (reply.id !== question.id) throw new DnsReplyError(`the reply's id ${reply.id} is not the query's id ${question.id}`);
  const asked = reply.questions ?? [];
  if (asked.length !== 1 || !sameName(asked[0]!.name, question.name) || asked[0]!.type !== question.type || asked[0]!.class !== 'IN') {
    throw new DnsReplyError(`the reply answers a different question than ${question.name} ${question.type}`);
  }
  if (reply.flag_tc) throw new DnsReplyError('the reply is truncated');
  if (reply.rcode === 'NXDOMAIN') return { kind: 'no-such-name' };
  if (reply.rcode !== 'NOERROR') throw new DnsReplyError(`the server answered ${reply.rcode ?? 'an unknown response code'}`);
  return { kind: 'addresses', addresses: addressesFor(question, reply.answers ?? []) };
}

function addressesFor(question: Question, answers: dnsPacket.Answer[]): IpAddress[] {
  const records = answers.filter((record): record is Exclude<dnsPacket.Answer, dnsPacket.OptAnswer> => record.type !== 'OPT' && record.class === 'IN');
  let owner = question.name;
  for (let hops = 0; ; hops++) {
    const alias = records.find((record) => record.type === 'CNAME' && sameName(record.name, owner));
    if (!alias) break;
    if (hops === MAX_CNAME_HOPS) throw new DnsReplyError(`the answer's CNAME chain from ${question.name} is longer than ${MAX_CNAME_HOPS} (a loop?)`);
    owner = alias.data as string;
  }
  return records
    .filter((record) => record.type === question.type && sameName(record.name, owner))
    .map((record) => {
      const address = parsePlainIp(String(record.data));
      if (!address || (address.tag === 'ipv4') !== (question.type === 'A')) throw new DnsReplyError(`the answer holds a bad ${question.type} record`);
      return canonicalAddress(address);
    });
}
