// DNS messages for tests, built with dns-packet (the reference implementation): queries read, replies written.

import * as dnsPacket from 'dns-packet';
import { SocketFault } from '../../src/net/faults.js';
import type { FakeReply } from './fake-network.js';

/** The query inside a length-prefixed message, as dns-packet reads it. */
export function readQuery(framed: Uint8Array): { id: number; name: string; type: string; flags: number } {
  const length = (framed[0]! << 8) | framed[1]!;
  const query = dnsPacket.decode(Buffer.from(framed.subarray(2, 2 + length)));
  const [question] = query.questions ?? [];
  return { id: query.id ?? -1, name: question?.name ?? '', type: question?.type ?? '', flags: query.flags ?? 0 };
}

/** Response codes by name; dns-packet writes them as the low 4 bits of `flags`. */
const RCODES: Record<string, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

/** A length-prefixed message; `rcode` is written into the flags. */
export function frame({ rcode = 'NOERROR', ...packet }: dnsPacket.Packet & { rcode?: string }): Uint8Array {
  return new Uint8Array(dnsPacket.streamEncode({ ...packet, flags: ((packet.flags ?? 0) & ~0xf) | RCODES[rcode]! }));
}

/** Records a test server knows, by lower-case name: addresses (A and AAAA alike) or a CNAME target. */
export type Zone = Record<string, string[] | { cname: string }>;

/** The answer a well-behaved server gives to `query` from `zone`: records for the name, CNAMEs followed. */
export function answerFrom(zone: Zone, query: ReturnType<typeof readQuery>, override: Partial<dnsPacket.Packet & { rcode: string }> = {}): Uint8Array {
  const answers: dnsPacket.Answer[] = [];
  let name = query.name.toLowerCase();
  for (let hops = 0; hops < 20; hops++) {
    const entry = zone[name];
    if (entry && !Array.isArray(entry)) {
      answers.push({ type: 'CNAME', name, ttl: 60, class: 'IN', data: entry.cname });
      name = entry.cname;
      continue;
    }
    for (const address of entry ?? []) {
      const type = address.includes(':') ? 'AAAA' : 'A';
      if (type === query.type) answers.push({ type, name, ttl: 60, class: 'IN', data: address });
    }
    break;
  }
  const known = Object.hasOwn(zone, query.name.toLowerCase());
  return frame({
    type: 'response',
    id: query.id,
    flags: dnsPacket.RECURSION_AVAILABLE,
    rcode: known ? 'NOERROR' : 'NXDOMAIN',
    questions: [{ type: query.type as 'A', name: query.name, class: 'IN' }],
    answers,
    ...override,
  } as dnsPacket.Packet);
}

/** How a fake DNS peer treats its connections besides answering from the zone. */
export interface DnsPeerOptions {
  /** Queries it never answers: the read waits until the deadline. */
  silent?: (query: ReturnType<typeof readQuery>) => boolean;
  /** Closes each connection after its first answer. */
  closeAfterFirstAnswer?: boolean;
  /** Answers the queries of one send last first. */
  reversed?: boolean;
}

/** The length-prefixed messages in `bytes`, as written one after another (pipelined). */
function framedMessages(bytes: Uint8Array): Uint8Array[] {
  const messages: Uint8Array[] = [];
  for (let at = 0; at + 2 <= bytes.length; ) {
    const end = at + 2 + ((bytes[at]! << 8) | bytes[at + 1]!);
    messages.push(bytes.subarray(at, end));
    at = end;
  }
  return messages;
}

/**
 * A fake-network peer that answers DNS queries from `zone`: each step's send may hold several queries
 * (pipelined), and each step's read takes the next complete length-prefixed answer; once none is left the
 * peer has closed (or, for a query it stays silent on, the read reaches the deadline).
 */
export function dnsPeer(zone: Zone, override: (query: ReturnType<typeof readQuery>) => Partial<dnsPacket.Packet & { rcode: string }> = () => ({}), options: DnsPeerOptions = {}) {
  const queries: ReturnType<typeof readQuery>[] = [];
  let pending: Uint8Array[] = [];
  let silentPending = false;
  let answeredOnConnection = 0;
  const peer = (_text: string, bytes: Uint8Array): FakeReply => {
    if (bytes.length > 0) {
      answeredOnConnection = 0;
      pending = [];
      silentPending = false;
      for (const framed of framedMessages(bytes)) {
        const query = readQuery(framed);
        queries.push(query);
        if (options.silent?.(query)) silentPending = true;
        else pending.push(answerFrom(zone, query, override(query)));
      }
      if (options.reversed) pending.reverse();
    }
    const next = options.closeAfterFirstAnswer && answeredOnConnection > 0 ? undefined : pending.shift();
    if (next) {
      answeredOnConnection++;
      return { bytes: next, end: 'complete' };
    }
    if (silentPending) throw new SocketFault('read', 'deadline');
    return { bytes: new Uint8Array(0), end: 'closed' };
  };
  return { peer, queries };
}
