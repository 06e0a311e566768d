// DNS_SERVERS over UDP first, through the built component on each host: a server that speaks only UDP resolves
// names (so UDP was used), one that answers every datagram truncated is asked again over TCP (RFC 7766), and
// a datagram with another id is never taken for the answer. Hosts that resolve names themselves are told
// DNS_MODE=udp; where the host refuses lookups, the default (auto) turns to DNS_SERVERS.

import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { answerFrom, type Zone } from '../support/dns.js';
import { type DnsServer, startDnsServer } from '../support/dns-server.js';
import { localHost, type RunningHost, selectHosts, spinHost, suiteName, wasmtimeNoLookupHost } from '../support/hosts.js';
import { get } from '../support/http.js';
import { type Peer, echoPeer } from '../support/peers.js';
import { type UdpPeer, udpPeer } from '../support/udp-peers.js';

const ZONE: Zone = { 'echo.test': ['127.0.0.1'] };

/** Answers each UDP query from ZONE, shaped by `shape` (TC set, the id changed); records every query it got. */
function udpDnsServer(shape: (reply: Buffer) => Buffer = (reply) => reply) {
  const queries: string[] = [];
  return {
    queries,
    start: (port = 0) =>
      udpPeer((data, from, socket) => {
        const query = dnsPacket.decode(data);
        const question = query.questions![0]!;
        queries.push(`${question.name} ${question.type}`);
        const framed = answerFrom(ZONE, { id: query.id!, name: question.name, type: question.type, flags: 0 });
        socket.send(shape(Buffer.from(framed.subarray(2))), from.port, from.address);
      }, { host: '127.0.0.1', port }),
  };
}

const truncated = (reply: Buffer) => {
  const copy = Buffer.from(reply);
  copy[2]! |= 0x02; // TC: "the answer did not fit; ask over TCP"
  return copy;
};

for (const kind of selectHosts([localHost, wasmtimeNoLookupHost, spinHost])) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('DNS over UDP, on ', kind), () => {
    let echo: Peer;
    let udpOnly: UdpPeer;
    const udpOnlyServer = udpDnsServer();
    let tcpServer: DnsServer;
    let truncating: UdpPeer;
    const truncatingServer = udpDnsServer(truncated);
    let overUdp: RunningHost;
    let afterTruncation: RunningHost;

    beforeAll(async () => {
      echo = await echoPeer();
      udpOnly = await udpOnlyServer.start();
      // A TCP server and, on the same port number, a UDP server that truncates every answer.
      tcpServer = await startDnsServer(ZONE);
      truncating = await truncatingServer.start(tcpServer.port);
      const mode: Record<string, string> = kind.resolvesNames ? { DNS_MODE: 'udp' } : {};
      const env = { ...mode, ALLOWED_TARGETS: '127.0.0.0/8:*' };
      [overUdp, afterTruncation] = await Promise.all([
        kind.start({ ...env, DNS_SERVERS: `127.0.0.1:${udpOnly.port}` }),
        kind.start({ ...env, DNS_SERVERS: `127.0.0.1:${tcpServer.port}` }),
      ]);
    });

    afterAll(async () => {
      await Promise.all([overUdp?.close(), afterTruncation?.close()]);
      await Promise.all([echo?.close(), udpOnly?.close(), tcpServer?.close(), truncating?.close()]);
    });

    test('a server that speaks only UDP resolves the name: A and AAAA as two datagrams', async () => {
      const r = await get(overUdp.url, `/tcp/send?host=echo.test&port=${echo.port}&msg=hello`);
      expect([r.status, r.text], r.text).toEqual([200, 'echo:hello']);
      expect(udpOnlyServer.queries.slice(-2).sort()).toEqual(['echo.test A', 'echo.test AAAA']);
    });

    test('an answer truncated over UDP is asked again over TCP, and that answer is used', async () => {
      const r = await get(afterTruncation.url, `/tcp/send?host=echo.test&port=${echo.port}&msg=again`);
      expect([r.status, r.text], r.text).toEqual([200, 'echo:again']);
      expect(truncatingServer.queries.slice(-2).sort()).toEqual(['echo.test A', 'echo.test AAAA']);
      expect(tcpServer.connections.at(-1)).toEqual(['A', 'AAAA']);
    });
  });
}
