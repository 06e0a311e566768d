// DNS over TCP through the built component on each host: a real DNS server (dnsmasq) and faulty ones on 127.0.0.1.
// wasmtime runs the README's command line without `-S allow-ip-name-lookup`, and Spin refuses lookups: with the
// default DNS_MODE (auto), names work there through DNS_SERVERS alone.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localHost, type RunningHost, selectHosts, spinHost, suiteName, wasmtimeNoLookupHost, wasmtimeReuseHost } from '../support/hosts.js';
import { type Dnsmasq, startDnsmasq } from '../support/dnsmasq.js';
import { dnsmasq as dnsmasqProgram, needing } from '../support/tools.js';
import { type DnsServer, type DnsServerOptions, startDnsServer } from '../support/dns-server.js';
import { get } from '../support/http.js';
import { type Peer, echoPeer, eventually, hasIpv6Loopback, tcpPeer } from '../support/peers.js';

const DEADLINE_MS = 2000;
const CONNECT_MS = 1000;
/** Slack for process scheduling on a loaded 2-core machine; the component's own deadlines are what is tested. */
const SLACK_MS = 1500;
const IPV6 = await hasIpv6Loopback();

/** How the faulty DNS server treats the next connections. */
type Fault = 'silent' | 'garbage' | 'endless';

/** One DNS server whose fault the test chooses, so one host instance covers every fault. */
async function faultyDnsServer() {
  let fault: Fault = 'silent';
  const peer = await tcpPeer((socket) => {
    if (fault === 'garbage') socket.end('HTTP/1.1 400 Bad Request\r\n\r\nthis is not DNS');
    if (fault === 'endless') {
      // A length prefix of 0xffff followed by bytes without end.
      socket.write(Buffer.from([0xff, 0xff]));
      const chunk = Buffer.alloc(16_384, 0xc0);
      const pump = () => {
        while (!socket.destroyed && socket.write(chunk));
      };
      socket.on('drain', pump);
      pump();
    }
  });
  return { peer, set: (next: Fault) => (fault = next) };
}

for (const kind of selectHosts([localHost, wasmtimeNoLookupHost, wasmtimeReuseHost, spinHost]).map((host) => needing(host, dnsmasqProgram))) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('DNS over TCP, on ', kind), () => {
    let dnsmasq: Dnsmasq;
    let faulty: Awaited<ReturnType<typeof faultyDnsServer>>;
    let echo: Peer;
    let echo6: Peer | undefined;
    let forwarder: Dnsmasq; // dnsmasq without --local: REFUSED for a type it has no record of
    let partial: DnsServer;
    let resolving: RunningHost; // DNS_SERVERS = dnsmasq
    let failing: RunningHost; // DNS_SERVERS = the faulty server
    let refusing: RunningHost; // DNS_SERVERS = dnsmasq without --local
    let partly: RunningHost; // DNS_SERVERS = the test's server that fails one query type

    beforeAll(async () => {
      echo = await echoPeer();
      echo6 = IPV6 ? await echoPeer({ host: '::1' }) : undefined;
      faulty = await faultyDnsServer();
      dnsmasq = await startDnsmasq({
        hosts: { 'echo.test': ['127.0.0.1'], 'both.test': ['127.0.0.1', '::1'], 'v6.test': ['::1'], 'metadata.test': ['169.254.169.254'], 'private.test': ['10.1.2.3'] },
        cnames: { 'alias.test': 'echo.test' },
      });
      const hosts = { 'echo.test': ['127.0.0.1'], 'v6.test': ['::1'], 'both.test': ['127.0.0.1', '::1'] };
      forwarder = await startDnsmasq({ hosts, local: false });
      partial = await startDnsServer({ ...hosts, 'none.test': [] });
      // Hosts that resolve names themselves (and know nothing of .test) are told to use DNS over TCP only;
      // where the host refuses lookups, the default, auto, turns to DNS_SERVERS.
      const mode: Record<string, string> = kind.resolvesNames ? { DNS_MODE: 'tcp' } : {};
      const env = { ...mode, ALLOWED_TARGETS: '127.0.0.0/8:*,[::1]:*' };
      // The component's defaults where names must resolve (a loaded machine is slow); short deadlines for the faults.
      const short = { REQUEST_DEADLINE_MS: String(DEADLINE_MS), CONNECT_TIMEOUT_MS: String(CONNECT_MS) };
      [resolving, failing, refusing, partly] = await Promise.all([
        kind.start({ ...env, DNS_SERVERS: dnsmasq.server }),
        kind.start({ ...env, ...short, DNS_SERVERS: `127.0.0.1:${faulty.peer.port}` }),
        kind.start({ ...env, DNS_SERVERS: forwarder.server }),
        kind.start({ ...env, DNS_SERVERS: partial.server }),
      ]);
    });

    afterAll(async () => {
      await Promise.all([resolving?.close(), failing?.close(), refusing?.close(), partly?.close()]);
      await Promise.all([dnsmasq?.close(), forwarder?.close(), partial?.close(), faulty?.peer.close(), echo?.close(), echo6?.close()]);
    });

    test('a name resolves through the DNS server and the exchange goes through', async () => {
      const r = await get(resolving.url, `/tcp/send?host=echo.test&port=${echo.port}&msg=hello`);
      expect([r.status, r.text], r.text).toEqual([200, 'echo:hello']);
      expect(r.headers.get('x-peer-address')).toBe(`127.0.0.1:${echo.port}`);
    });

    test('a CNAME is followed to its target', async () => {
      const r = await get(resolving.url, `/tcp/send?host=alias.test&port=${echo.port}&msg=via-alias`);
      expect([r.status, r.text], r.text).toEqual([200, 'echo:via-alias']);
    });

    test('both A and AAAA are asked: a name with both connects over IPv4 first', async () => {
      const r = await get(resolving.url, `/tcp/send?host=both.test&port=${echo.port}&msg=v4`);
      expect([r.status, r.headers.get('x-peer-address')], r.text).toEqual([200, `127.0.0.1:${echo.port}`]);
    });

    test.skipIf(!IPV6)('a name with only an AAAA record reaches its IPv6 peer', async () => {
      const r = await get(resolving.url, `/tcp/send?host=v6.test&port=${echo6!.port}&msg=v6`);
      expect([r.status, r.text, r.headers.get('x-peer-address')], r.text).toEqual([200, 'echo:v6', `[::1]:${echo6!.port}`]);
    });

    test('a name that does not exist is 502 name-unresolvable', async () => {
      const r = await get(resolving.url, `/tcp/send?host=missing.test&port=${echo.port}`);
      expect([r.status, r.code], r.text).toEqual([502, 'name-unresolvable']);
      expect(r.text).toContain('NXDOMAIN');
    });

    test.each([
      ['cloud metadata', 'metadata.test', '169.254.169.254'],
      ['a private network', 'private.test', '10.1.2.3'],
    ])('a name that resolves into %s is 403 destination-denied', async (_, name, address) => {
      const r = await get(resolving.url, `/tcp/send?host=${name}&port=80`);
      expect([r.status, r.code], r.text).toEqual([403, 'destination-denied']);
      expect(r.text).toContain(address);
    });

    test('dnsmasq without --local refuses AAAA for a name with only an A record: the A record is used', async () => {
      const r = await get(refusing.url, `/tcp/send?host=echo.test&port=${echo.port}&msg=v4-only`);
      expect([r.status, r.text, r.headers.get('x-peer-address')], r.text).toEqual([200, 'echo:v4-only', `127.0.0.1:${echo.port}`]);
    });

    test.skipIf(!IPV6)('dnsmasq without --local refuses A for a name with only an AAAA record: the AAAA record is used', async () => {
      const r = await get(refusing.url, `/tcp/send?host=v6.test&port=${echo6!.port}&msg=v6-only`);
      expect([r.status, r.text, r.headers.get('x-peer-address')], r.text).toEqual([200, 'echo:v6-only', `[::1]:${echo6!.port}`]);
    });

    test('dnsmasq without --local refuses both questions for a name it does not know: 502 resolver-failure naming REFUSED', async () => {
      const r = await get(refusing.url, `/tcp/send?host=missing.test&port=${echo.port}`);
      expect([r.status, r.code], r.text).toEqual([502, 'resolver-failure']);
      expect(r.text).toContain('REFUSED');
    });

    test.each<[string, DnsServerOptions]>([
      ['answers only A (silent on AAAA)', { behaviour: { AAAA: 'silent' } }],
      ['refuses AAAA', { behaviour: { AAAA: 'refused' } }],
      ['answers SERVFAIL to AAAA', { behaviour: { AAAA: 'servfail' } }],
      ['closes after its first answer', { closeAfterFirstAnswer: true }],
      ['answers the second question first', { order: 'reversed' }],
      ['answers 20 ms late', { latencyMs: 20 }],
    ])('a DNS server that %s: the name resolves to its A record, both questions asked on one connection', async (_, options) => {
      partial.set(options);
      const before = partial.connections.length;
      const r = await get(partly.url, `/tcp/send?host=echo.test&port=${echo.port}&msg=partial`);
      expect([r.status, r.text, r.headers.get('x-peer-address')], r.text).toEqual([200, 'echo:partial', `127.0.0.1:${echo.port}`]);
      expect(partial.connections[before]).toEqual(['A', 'AAAA']);
      // Only a server that closed after its first answer is asked again, the other question alone.
      expect(partial.connections.slice(before + 1)).toEqual(options.closeAfterFirstAnswer ? [['AAAA']] : []);
    });

    test.skipIf(!IPV6).each<[string, DnsServerOptions]>([
      ['answers only AAAA (silent on A)', { behaviour: { A: 'silent' } }],
      ['refuses A', { behaviour: { A: 'refused' } }],
      ['answers SERVFAIL to A', { behaviour: { A: 'servfail' } }],
    ])('a DNS server that %s: a name with both records resolves to its AAAA record', async (_, options) => {
      partial.set(options);
      const r = await get(partly.url, `/tcp/send?host=both.test&port=${echo6!.port}&msg=v6`);
      expect([r.status, r.text, r.headers.get('x-peer-address')], r.text).toEqual([200, 'echo:v6', `[::1]:${echo6!.port}`]);
    });

    test('a name with no A and no AAAA record is 502 name-unresolvable saying so', async () => {
      partial.set({});
      const r = await get(partly.url, `/tcp/send?host=none.test&port=${echo.port}`);
      expect([r.status, r.code], r.text).toEqual([502, 'name-unresolvable']);
      expect(r.text).toContain('no A and no AAAA record');
    });

    test('a DNS server that never answers is 504 resolve-timeout within the deadline', async () => {
      faulty.set('silent');
      const r = await get(failing.url, `/tcp/send?host=echo.test&port=${echo.port}`);
      expect([r.status, r.code], r.text).toEqual([504, 'resolve-timeout']);
      expect(r.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    });

    test.each<[string, Fault]>([
      ['sends garbage and closes', 'garbage'],
      ['sends an endless stream', 'endless'],
    ])('a DNS server that %s is 502 resolver-failure, and the service stays healthy', async (_, fault) => {
      faulty.set(fault);
      const r = await get(failing.url, `/tcp/send?host=echo.test&port=${echo.port}`);
      expect([r.status, r.code], r.text).toEqual([502, 'resolver-failure']);
      expect(r.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
      // Every connection to the faulty server is closed, and the service still answers and connects.
      expect(await eventually(async () => (await faulty.peer.openConnections()) === 0)).toBe(true);
      expect((await get(failing.url, '/health')).text).toBe('ok');
      const after = await get(failing.url, `/tcp/send?host=127.0.0.1&port=${echo.port}&msg=still-here`);
      expect([after.status, after.text]).toEqual([200, 'echo:still-here']);
    });
  });
}

