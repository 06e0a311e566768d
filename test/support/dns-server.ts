// DNS servers over TCP written for the tests, on 127.0.0.1 port 0: each answers from a zone, with the faults
// real resolvers show for one query type (REFUSED, SERVFAIL, silence), closing after its first answer, added
// latency, or answers in another order than asked. Messages are read and written with dns-packet (support/dns.ts).

import type net from 'node:net';
import { type Zone, answerFrom, readQuery } from './dns.js';
import { type Peer, tcpPeer } from './peers.js';

/** What the server does with a query of one type. */
export type QueryBehaviour =
  /** Answers from the zone: its records of the type (possibly none), NXDOMAIN for a name it does not know. */
  | 'answer'
  | 'refused'
  | 'servfail'
  /** Never answers; the connection stays open. */
  | 'silent';

export interface DnsServerOptions {
  /** Per query type; `answer` for a type not named. */
  behaviour?: Partial<Record<'A' | 'AAAA', QueryBehaviour>>;
  /** Closes the connection right after its first answer, as some servers do (RFC 7766 allows it). */
  closeAfterFirstAnswer?: boolean;
  /** Added before each answer, as a distant server would (a loopback server otherwise answers at once). */
  latencyMs?: number;
  /** `reversed`: waits for two queries on a connection and answers the second first (replies matched by id). */
  order?: 'as-asked' | 'reversed';
}

export interface DnsServer extends Peer {
  /** `127.0.0.1:PORT`, as DNS_SERVERS takes it. */
  server: string;
  /** The types asked on each connection, in order of connection and of arrival. */
  connections: string[][];
  /** How the server treats connections from now on. */
  set(options: DnsServerOptions): void;
}

/** A DNS-over-TCP server (RFC 7766): reads length-prefixed queries as they arrive, pipelined or not. */
export async function startDnsServer(zone: Zone, initial: DnsServerOptions = {}): Promise<DnsServer> {
  const connections: string[][] = [];
  let current = initial;
  const peer = await tcpPeer((socket) => {
    const options = current;
    const asked: string[] = [];
    connections.push(asked);
    let buffered = Buffer.alloc(0);
    const waiting: Buffer[] = [];
    let answered = 0;
    socket.on('data', (data) => {
      buffered = Buffer.concat([buffered, data]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const framed = buffered.subarray(0, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(framed.length);
        const query = readQuery(framed);
        asked.push(query.type);
        const behaviour = options.behaviour?.[query.type as 'A' | 'AAAA'] ?? 'answer';
        if (behaviour === 'silent') continue;
        const rcode = behaviour === 'refused' ? 'REFUSED' : behaviour === 'servfail' ? 'SERVFAIL' : undefined;
        const answer = Buffer.from(answerFrom(zone, query, rcode ? { rcode, answers: [] } : {}));
        if (options.order === 'reversed') {
          waiting.push(answer);
          if (waiting.length === 2) for (const reply of waiting.reverse()) send(socket, reply);
        } else {
          send(socket, answer);
        }
      }
    });
    function send(to: net.Socket, answer: Buffer): void {
      const write = () => {
        if (to.destroyed || (options.closeAfterFirstAnswer && answered > 0)) return;
        answered++;
        if (options.closeAfterFirstAnswer) to.end(answer);
        else to.write(answer);
      };
      if (options.latencyMs) setTimeout(write, options.latencyMs);
      else write();
    }
  });
  return { ...peer, server: `127.0.0.1:${peer.port}`, connections, set: (next) => (current = next) };
}
