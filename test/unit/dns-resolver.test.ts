// DNS to the configured servers above the socket interface (UDP first, then TCP): server order, query ids, outcomes, and when DNS_MODE uses it.

import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { Config, type DnsSettings, type Environment } from '../../src/settings/config.js';
import * as dnsPacket from 'dns-packet';
import { DNS_QUERY_TIMEOUT_MS, DNS_UDP_WAIT_MS, resolveWithServers, withDnsServers } from '../../src/net/dns/resolver.js';
import { DatagramFault } from '../../src/net/datagram-network.js';
import type { DatagramLimits, UdpNetwork } from '../../src/net/datagrams.js';
import { SocketFault } from '../../src/net/faults.js';
import { formatIp, formatSocketAddress, type IpAddress, type SocketAddress } from '../../src/net/ip.js';
import { type Zone, answerFrom, dnsPeer } from '../support/dns.js';
import { failure } from '../support/failure.js';
import { type FakeReply, fakeNetwork, reply, v4, virtualClock } from '../support/fake-network.js';

const ZONE: Zone = { 'peer.test': ['192.0.2.1', '2001:db8::1'], 'alias.test': { cname: 'peer.test' } };
const server = (port: number): SocketAddress => ({ address: v4(127, 0, 0, 1), port });
const S1 = server(5301);
const S2 = server(5302);
/** A complete length-prefixed message that is not DNS. */
const GARBAGE: FakeReply = { bytes: new Uint8Array([0, 5, 1, 2, 3, 4, 5]), end: 'complete' };

type Peer = FakeReply | SocketFault | ((message: string, bytes: Uint8Array) => FakeReply);

describe('resolveWithServers(network, name, servers, timeoutMs)', () => {
  test('asks A and AAAA on one connection, both written at once, two length-prefixed reads with a bounded reply, within the query timeout', () => {
    const dns = dnsPeer(ZONE);
    const { network, calls } = fakeNetwork({ peers: { '127.0.0.1:5301': dns.peer } });
    const addresses = resolveWithServers(network, 'peer.test', [S1], 10_000);
    expect(addresses.map(formatIp)).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(dns.queries.map((q) => `${q.name} ${q.type}`)).toEqual(['peer.test A', 'peer.test AAAA']);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.limits).toMatchObject({ maxReplyBytes: 2 * 65_537, deadlineMs: DNS_QUERY_TIMEOUT_MS });
    expect(calls[0]!.steps.map((step) => [step.send.length > 0, step.read])).toEqual([
      [true, { lengthPrefixed: true }],
      [false, { lengthPrefixed: true }],
    ]);
    expect(new Set(dns.queries.map((q) => q.id)).size).toBe(2);
  });

  test('replies are matched to their questions by id, whatever order they come in', () => {
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': dnsPeer(ZONE, () => ({}), { reversed: true }).peer } });
    expect(resolveWithServers(network, 'peer.test', [S1], 10_000).map(formatIp)).toEqual(['192.0.2.1', '2001:db8::1']);
  });

  test('two queries in flight never share an id, even when the id source repeats itself', () => {
    const ids = [7, 7, 9];
    const dns = dnsPeer(ZONE);
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': dns.peer } });
    expect(resolveWithServers(network, 'peer.test', [S1], 10_000, () => ids.shift() ?? 11).map(formatIp)).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(dns.queries.map((q) => q.id)).toEqual([7, 9]);
  });

  test.each<[string, Parameters<typeof dnsPeer>[1], Parameters<typeof dnsPeer>[2], string[]]>([
    ['refuses AAAA (dnsmasq without --local)', (q) => (q.type === 'AAAA' ? { rcode: 'REFUSED', answers: [] } : {}), {}, ['192.0.2.1']],
    ['refuses A', (q) => (q.type === 'A' ? { rcode: 'REFUSED', answers: [] } : {}), {}, ['2001:db8::1']],
    ['answers SERVFAIL to AAAA', (q) => (q.type === 'AAAA' ? { rcode: 'SERVFAIL', answers: [] } : {}), {}, ['192.0.2.1']],
    ['answers SERVFAIL to A', (q) => (q.type === 'A' ? { rcode: 'SERVFAIL', answers: [] } : {}), {}, ['2001:db8::1']],
    ['never answers AAAA', undefined, { silent: (q) => q.type === 'AAAA' }, ['192.0.2.1']],
    ['sends an unusable reply to AAAA', (q) => (q.type === 'AAAA' ? { id: (q.id + 1) & 0xffff } : {}), {}, ['192.0.2.1']],
  ])('a server that %s: the addresses of the question it answered, and no other server asked', (_, override, options, expected) => {
    const second = dnsPeer(ZONE);
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': dnsPeer(ZONE, override, options).peer, '127.0.0.1:5302': second.peer } });
    expect(resolveWithServers(network, 'peer.test', [S1, S2], 10_000).map(formatIp)).toEqual(expected);
    expect(second.queries).toHaveLength(0);
  });

  test('a server that closes after its first answer is asked the other question on a new connection', () => {
    const dns = dnsPeer(ZONE, () => ({}), { closeAfterFirstAnswer: true });
    const { network, calls } = fakeNetwork({ peers: { '127.0.0.1:5301': dns.peer } });
    expect(resolveWithServers(network, 'peer.test', [S1], 10_000).map(formatIp)).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.steps).toHaveLength(1);
    expect(dns.queries.map((q) => q.type)).toEqual(['A', 'AAAA', 'AAAA']);
  });

  test('a name with no A and no AAAA record is 502 name-unresolvable saying so, and final', () => {
    const second = dnsPeer(ZONE);
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': dnsPeer({ 'empty.test': [] }).peer, '127.0.0.1:5302': second.peer } });
    const error = failure(() => resolveWithServers(network, 'empty.test', [S1, S2], 10_000));
    expect([error.status, error.code]).toEqual([502, 'name-unresolvable']);
    expect(error.message).toContain('has no A and no AAAA record');
    expect(second.queries).toHaveLength(0);
  });

  test('no addresses from one question and a failure from the other is nothing usable: the next server is asked', () => {
    const first = dnsPeer({ 'v4.test': ['192.0.2.4'] }, (q) => (q.type === 'A' ? { rcode: 'SERVFAIL', answers: [] } : {}));
    const second = dnsPeer({ 'v4.test': ['192.0.2.4'] });
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': first.peer, '127.0.0.1:5302': second.peer } });
    expect(resolveWithServers(network, 'v4.test', [S1, S2], 10_000).map(formatIp)).toEqual(['192.0.2.4']);
    expect(second.queries).toHaveLength(2);
  });

  test('query ids are random, and a reply is used only when it echoes its query id', () => {
    const dns = dnsPeer(ZONE);
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': dns.peer } });
    for (let i = 0; i < 8; i++) resolveWithServers(network, 'peer.test', [S1], 10_000);
    expect(new Set(dns.queries.map((q) => q.id)).size).toBeGreaterThan(8);

    const echoesWrongId = dnsPeer(ZONE, (q) => ({ id: (q.id + 1) & 0xffff }));
    const wrong = fakeNetwork({ peers: { '127.0.0.1:5301': echoesWrongId.peer } });
    const error = failure(() => resolveWithServers(wrong.network, 'peer.test', [S1], 10_000));
    expect(error.code).toBe('resolver-failure');
    expect(error.message).toMatch(/127\.0\.0\.1:5301 .*id/);
  });

  test('follows a CNAME within the answer', () => {
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': dnsPeer(ZONE).peer } });
    expect(resolveWithServers(network, 'alias.test', [S1], 10_000).map(formatIp)).toEqual(['192.0.2.1', '2001:db8::1']);
  });

  test.each<[string, Peer]>([
    ['refuses the connection', new SocketFault('connect', 'connection-refused')],
    ['sends a message that is not DNS', GARBAGE],
    ['sends garbage and closes', reply('garbage!')],
    ['answers SERVFAIL', dnsPeer(ZONE, () => ({ rcode: 'SERVFAIL' })).peer],
    ['closes in the middle of its reply', { bytes: new Uint8Array([0, 40, 1, 2]), end: 'closed' }],
    ['stays silent', new SocketFault('read', 'deadline')],
  ])('asks the next server when the first %s', (_, first) => {
    const second = dnsPeer(ZONE);
    const { network, calls } = fakeNetwork({ peers: { '127.0.0.1:5301': first, '127.0.0.1:5302': second.peer } });
    expect(resolveWithServers(network, 'peer.test', [S1, S2], 10_000).map(formatIp)).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(calls[0]!.to).toBe('127.0.0.1:5301');
    expect(second.queries).toHaveLength(2);
  });

  test('NXDOMAIN is final: 502 name-unresolvable, and no other server is asked', () => {
    const second = dnsPeer(ZONE);
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': dnsPeer(ZONE).peer, '127.0.0.1:5302': second.peer } });
    const error = failure(() => resolveWithServers(network, 'missing.test', [S1, S2], 10_000));
    expect([error.status, error.code]).toEqual([502, 'name-unresolvable']);
    expect(error.message).toContain('NXDOMAIN from DNS server 127.0.0.1:5301');
    expect(second.queries).toHaveLength(0);
  });

  test('every server silent: 504 resolve-timeout', () => {
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': new SocketFault('read', 'deadline'), '127.0.0.1:5302': new SocketFault('connect', 'deadline') } });
    const error = failure(() => resolveWithServers(network, 'peer.test', [S1, S2], 10_000));
    expect([error.status, error.code]).toEqual([504, 'resolve-timeout']);
    expect(error.message).toMatch(/5301.*5302/);
  });

  test('a server that never finishes its reply counts as silent', () => {
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': { bytes: new Uint8Array([0, 40, 1]), end: 'deadline' } } });
    expect(failure(() => resolveWithServers(network, 'peer.test', [S1], 10_000)).code).toBe('resolve-timeout');
  });

  test('no server answers usably: 502 resolver-failure naming each server and what went wrong', () => {
    const { network } = fakeNetwork({ peers: { '127.0.0.1:5301': GARBAGE, '127.0.0.1:5302': new SocketFault('connect', 'access-denied') } });
    const error = failure(() => resolveWithServers(network, 'peer.test', [S1, S2], 10_000));
    expect([error.status, error.code]).toEqual([502, 'resolver-failure']);
    expect(error.message).toMatch(/127\.0\.0\.1:5301 sent an unusable reply.*127\.0\.0\.1:5302 failed: the host denied connect/);
  });

  test('the time budget runs on the network\'s monotonic clock: a server that used it up leaves the next one unasked', () => {
    const clock = virtualClock();
    const slow = (): FakeReply => {
      clock.advance(300);
      return GARBAGE;
    };
    const second = dnsPeer(ZONE);
    const { network } = fakeNetwork({ clock, peers: { '127.0.0.1:5301': slow, '127.0.0.1:5302': second.peer } });
    const error = failure(() => resolveWithServers(network, 'peer.test', [S1, S2], 300));
    expect(error.code).toBe('resolver-failure');
    expect(error.message).toContain('5302 was not asked: no time was left');
    expect(second.queries).toHaveLength(0);
  });

  test('the whole resolution stays within its time budget: a question asked again gets what is left of it', () => {
    const clock = virtualClock();
    const dns = dnsPeer(ZONE, () => ({}), { closeAfterFirstAnswer: true });
    const taking100ms = (message: string, bytes: Uint8Array) => {
      clock.advance(100);
      return dns.peer(message, bytes);
    };
    const { network, calls } = fakeNetwork({ clock, peers: { '127.0.0.1:5301': taking100ms } });
    resolveWithServers(network, 'peer.test', [S1], 300);
    expect(calls.map((call) => call.limits.deadlineMs)).toEqual([300, 100]);
  });
});

describe('withDnsServers(network, settings): DNS_MODE', () => {
  const refused = new SocketFault('resolve', 'permanent-resolver-failure');
  const hostAnswer: IpAddress[] = [v4(192, 0, 2, 50)];
  const run = (settings: DnsSettings, hostLookup: IpAddress[] | SocketFault) => {
    const dns = dnsPeer(ZONE);
    const fake = fakeNetwork({ names: { 'peer.test': hostLookup }, peers: { '127.0.0.1:5301': dns.peer } });
    const network = withDnsServers(fake.network, undefined, () => settings);
    try {
      return { result: network.resolve('peer.test', 5_000).map(formatIp), hostLookups: fake.lookups.length, dnsQueries: dns.queries.length };
    } catch (error) {
      return { result: error instanceof SocketFault ? error.code : String(error), hostLookups: fake.lookups.length, dnsQueries: dns.queries.length };
    }
  };

  test.each<[string, DnsSettings, IpAddress[] | SocketFault, { result: string[] | string; hostLookups: number; dnsQueries: number }]>([
    ['auto: the host answers, DNS servers are not asked', { mode: 'auto', servers: [S1] }, hostAnswer, { result: ['192.0.2.50'], hostLookups: 1, dnsQueries: 0 }],
    ['auto: the host refuses, the DNS servers answer', { mode: 'auto', servers: [S1] }, refused, { result: ['192.0.2.1', '2001:db8::1'], hostLookups: 1, dnsQueries: 2 }],
    ['auto: the host refuses and no servers are set: the refusal stands', { mode: 'auto', servers: [] }, refused, { result: 'permanent-resolver-failure', hostLookups: 1, dnsQueries: 0 }],
    ['auto: a name the host cannot find is not asked again', { mode: 'auto', servers: [S1] }, new SocketFault('resolve', 'name-unresolvable'), { result: 'name-unresolvable', hostLookups: 1, dnsQueries: 0 }],
    ['system: the servers are never asked', { mode: 'system', servers: [S1] }, refused, { result: 'permanent-resolver-failure', hostLookups: 1, dnsQueries: 0 }],
    ['tcp: the host is never asked', { mode: 'tcp', servers: [S1] }, hostAnswer, { result: ['192.0.2.1', '2001:db8::1'], hostLookups: 0, dnsQueries: 2 }],
  ])('%s', (_, settings, hostLookup, expected) => {
    expect(run(settings, hostLookup)).toEqual(expected);
  });
});

describe('DNS over UDP first (resolveWithServers with a UDP network; DNS_MODE udp and auto)', () => {
  /**
   * A UDP server for ZONE: `answer` shapes each reply datagram (the query's own, by default), or drops it
   * (undefined); `fault` fails the exchange as the host would (ICMP unreachable, UDP denied).
   */
  function udpServer({ answer = (reply: Uint8Array) => reply, fault }: { answer?: (reply: Uint8Array, query: dnsPacket.Packet) => Uint8Array | undefined; fault?: SocketFault } = {}) {
    const exchanges: { to: string; limits: DatagramLimits; queries: dnsPacket.Packet[] }[] = [];
    const udp: UdpNetwork = {
      exchange(to, steps, limits) {
        const queries = steps[0]!.send.map((datagram) => dnsPacket.decode(Buffer.from(datagram)));
        exchanges.push({ to: formatSocketAddress(to), limits, queries });
        if (fault) throw new DatagramFault(fault, [], 0);
        const datagrams = queries
          .map((query) => {
            const framed = answerFrom(ZONE, { id: query.id!, name: query.questions![0]!.name, type: query.questions![0]!.type, flags: 0 });
            return answer(framed.subarray(2), query);
          })
          .filter((d): d is Uint8Array => d !== undefined)
          .map((bytes) => ({ bytes, atMs: 1 }));
        return { replies: [{ datagrams, end: datagrams.length === 2 ? 'count' : 'deadline', ms: 1 }], ignored: 0 };
      },
    };
    return { udp, exchanges };
  }
  const truncated = (reply: Uint8Array) => {
    const copy = reply.slice();
    copy[2]! |= 0x02; // TC
    return copy;
  };

  test('both questions go out as datagrams, within the UDP wait; answers by UDP mean no TCP connection', () => {
    const { udp, exchanges } = udpServer();
    const { network, calls } = fakeNetwork({});
    expect(resolveWithServers(network, 'peer.test', [S1], 10_000, undefined, udp).map(formatIp)).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(calls).toEqual([]);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.to).toBe('127.0.0.1:5301');
    expect(exchanges[0]!.limits.deadlineMs).toBe(DNS_UDP_WAIT_MS);
    expect(exchanges[0]!.queries.map((q) => q.questions![0]!.type)).toEqual(['A', 'AAAA']);
    expect(new Set(exchanges[0]!.queries.map((q) => q.id)).size).toBe(2);
  });

  test.each<[string, Parameters<typeof udpServer>[0]]>([
    ['a truncated answer (TC)', { answer: (reply, query) => (query.questions![0]!.type === 'AAAA' ? truncated(reply) : reply) }],
    ['UDP refused by the host or ICMP unreachable', { fault: new SocketFault('read', 'connection-refused') }],
    ['silence (a datagram lost)', { answer: () => undefined }],
    ['a reply carrying another id', { answer: (reply) => Uint8Array.from([reply[0]! ^ 0xff, ...reply.subarray(1)]) }],
    ['a reply that is not DNS', { answer: () => new Uint8Array([1, 2, 3]) }],
  ])('%s: the same questions over TCP', (_, behaviour) => {
    const { udp, exchanges } = udpServer(behaviour);
    const dns = dnsPeer(ZONE);
    const { network, calls } = fakeNetwork({ peers: { '127.0.0.1:5301': dns.peer } });
    expect(resolveWithServers(network, 'peer.test', [S1], 10_000, undefined, udp).map(formatIp)).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(exchanges).toHaveLength(1);
    expect(calls).toHaveLength(1);
    expect(dns.queries.map((q) => q.type)).toEqual(['A', 'AAAA']);
  });

  test.each<[DnsSettings['mode'], number]>([
    ['udp', 1],
    ['auto', 1],
    ['tcp', 0],
  ])('DNS_MODE %s asks over UDP %i time(s) before any TCP', (mode, udpExchanges) => {
    const { udp, exchanges } = udpServer();
    const dns = dnsPeer(ZONE);
    const fake = fakeNetwork({ names: { 'peer.test': new SocketFault('resolve', 'permanent-resolver-failure') }, peers: { '127.0.0.1:5301': dns.peer } });
    const network = withDnsServers(fake.network, udp, () => ({ mode, servers: [S1] }));
    expect(network.resolve('peer.test', 5_000).map(formatIp)).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(exchanges).toHaveLength(udpExchanges);
    expect(dns.queries).toHaveLength(udpExchanges === 0 ? 2 : 0);
  });
});

describe('DNS over TCP through the app', () => {
  const LOCAL_PROFILE = '127.0.0.0/8:*,[::1]:*,0.0.0.0/0:*,[::/0]:*';
  function appWith(env: Environment, peers: Record<string, Peer>, names: Record<string, IpAddress[] | SocketFault> = {}) {
    const fake = fakeNetwork({ names, peers });
    const config = new Config({ ALLOWED_TARGETS: LOCAL_PROFILE, DNS_MODE: 'tcp', DNS_SERVERS: '127.0.0.1:5301', ...env });
    const app = createApp({ config: () => config, network: fake.network });
    return { ...fake, call: async (path: string) => {
      const response = await app(new Request(`http://component.local${path}`));
      const text = await response.text();
      return { status: response.status, text, code: response.status === 200 ? undefined : (JSON.parse(text) as { error: { code: string } }).error.code };
    } };
  }

  test('a name resolved over TCP is connected to', async () => {
    const { call, calls } = appWith({}, { '127.0.0.1:5301': dnsPeer({ 'peer.test': ['127.0.0.2'] }).peer, '127.0.0.2:7': reply('pong') });
    expect(await call('/tcp/send?host=peer.test&port=7&msg=ping')).toMatchObject({ status: 200, text: 'pong' });
    expect(calls.at(-1)!.to).toBe('127.0.0.2:7');
  });

  test('addresses found over TCP pass the destination policy: a name resolving to cloud metadata is 403', async () => {
    const { call, calls } = appWith({}, { '127.0.0.1:5301': dnsPeer({ 'meta.test': ['169.254.169.254'] }).peer, '169.254.169.254:80': reply('secret') });
    expect(await call('/tcp/send?host=meta.test&port=80')).toMatchObject({ status: 403, code: 'destination-denied' });
    expect(calls.map((c) => c.to)).not.toContain('169.254.169.254:80');
  });

  test('the DNS servers themselves are not subject to ALLOWED_TARGETS', async () => {
    const { call } = appWith({ ALLOWED_TARGETS: '192.0.2.7:80' }, { '127.0.0.1:5301': dnsPeer({ 'web.test': ['192.0.2.7'] }).peer, '192.0.2.7:80': reply('ok') });
    expect(await call('/tcp/send?host=web.test&port=80')).toMatchObject({ status: 200, text: 'ok' });
  });

  test('the default target falls back to DEFAULT_TARGET_FALLBACK_IPS when the DNS servers fail, not when the name does not exist', async () => {
    const env = { DEFAULT_TARGET_HOST: 'home.test', DEFAULT_TARGET_FALLBACK_IPS: '192.0.2.9' };
    const failing = appWith(env, { '127.0.0.1:5301': GARBAGE, '192.0.2.9:80': reply('fallback') });
    expect(await failing.call('/')).toMatchObject({ status: 200, text: 'fallback' });
    const missing = appWith(env, { '127.0.0.1:5301': dnsPeer({}).peer, '192.0.2.9:80': reply('fallback') });
    expect(await missing.call('/')).toMatchObject({ status: 502, code: 'name-unresolvable' });
  });

  test('IP literals never ask the DNS servers', async () => {
    const dns = dnsPeer(ZONE);
    const { call } = appWith({}, { '127.0.0.1:5301': dns.peer, '127.0.0.1:7': reply('pong') });
    expect((await call('/tcp/send?host=127.0.0.1&port=7')).status).toBe(200);
    expect(dns.queries).toHaveLength(0);
  });
});
