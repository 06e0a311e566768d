// The local host's sockets on the worker's own thread (host/wasi-sockets-in-thread.mjs), called as the
// component calls them, against real loopback peers. Runs on every Node: only the component's suspension needs
// JSPI; here `poll` is awaited directly.

import { afterEach, describe, expect, test } from 'vitest';
import { error as shimError, poll as shimPoll, streams } from '@bytecodealliance/preview2-shim/io';
import {
  MAX_DATAGRAM_BYTES,
  READ_BUFFER_BYTES,
  RECEIVE_QUEUE_BYTES,
  RECEIVE_QUEUE_DATAGRAMS,
  SEND_QUEUE_DATAGRAMS,
  WRITE_BUFFER_BYTES,
  instanceNetwork,
  ipNameLookup,
  monotonicClock,
  poll,
  tcpCreateSocket,
  udp,
  udpCreateSocket,
} from '../../host/wasi-sockets-in-thread.mjs';
import { freePort, tcpPeer, type Peer } from '../support/tcp-peers.mjs';
import { hasIpv6Loopback } from '../support/peers.js';
import { kernelUdpSocket, sendFrom, udpPeer, type UdpPeer } from '../support/udp-peers.js';

type Ip = { tag: 'ipv4' | 'ipv6'; val: { port: number; address: number[]; flowInfo?: number; scopeId?: number } };
const v4 = (port: number, address = [127, 0, 0, 1]): Ip => ({ tag: 'ipv4', val: { port, address } });
const v6 = (port: number, address = [0, 0, 0, 0, 0, 0, 0, 1]): Ip => ({ tag: 'ipv6', val: { port, flowInfo: 0, scopeId: 0, address } });
const MS = 1_000_000n;
const ipv6 = await hasIpv6Loopback();

let peer: Peer | undefined;
/** UDP peers to close after each test. */
const udpPeers: UdpPeer[] = [];
/** Sockets and streams to release after each test, newest first (streams before their socket), as the component drops them. */
const disposables: object[] = [];
afterEach(async () => {
  for (const d of disposables.splice(0).reverse()) drop(d);
  await peer?.close();
  peer = undefined;
  await Promise.all(udpPeers.splice(0).map((p) => p.close()));
});

/** Drops a resource as the component does. */
const drop = (resource: object) => (resource as Disposable)[Symbol.dispose]();

/** What a thrown WASI error carries (a code string, or a stream error variant). */
function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** Connects as the component does: start, wait on the socket's pollable, finish. */
async function connect(to: Ip) {
  const socket = tcpCreateSocket.createTcpSocket(to.tag);
  disposables.push(socket);
  socket.startConnect(instanceNetwork.instanceNetwork(), to);
  expect(thrown(() => socket.finishConnect())).toBe('would-block');
  await poll.poll([socket.subscribe()]);
  return socket;
}

/** Reads until `bytes` have arrived, polling between reads, or until the stream says closed. */
type Input = { read(len: bigint): Uint8Array; subscribe(): { ready(): boolean } };

async function readAll(input: Input, bytes = Infinity) {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const ready = input.subscribe();
  while (total < bytes) {
    let chunk: Uint8Array;
    try {
      chunk = input.read(65536n);
    } catch (error) {
      if ((error as { tag?: string }).tag === 'closed') break;
      throw error;
    }
    if (chunk.length === 0) await poll.poll([ready]);
    chunks.push(chunk);
    total += chunk.length;
  }
  return Buffer.concat(chunks);
}

describe('tcp-socket', () => {
  test('connects, writes, and reads what the peer answers; the streams are preview2-shim classes', async () => {
    peer = await tcpPeer((s) => s.on('data', (d) => s.write(d)));
    const socket = await connect(v4(peer.port));
    const [input, output] = socket.finishConnect();
    expect(input).toBeInstanceOf(streams.InputStream);
    expect(output).toBeInstanceOf(streams.OutputStream);
    expect(input.read(10n)).toEqual(new Uint8Array(0));
    expect(output.checkWrite()).toBe(BigInt(WRITE_BUFFER_BYTES));
    output.write(new TextEncoder().encode('hello'));
    output.flush();
    expect(new TextDecoder().decode(await readAll(input, 5))).toBe('hello');
    expect(thrown(() => socket.finishConnect())).toBe('not-in-progress');
  });

  test.runIf(ipv6)('connects over IPv6', async () => {
    peer = await tcpPeer((s) => s.end('six'), { host: '::1' });
    const [input] = (await connect(v6(peer.port))).finishConnect();
    expect((await readAll(input)).toString()).toBe('six');
  });

  test('a port with nothing listening: connection-refused', async () => {
    const socket = await connect(v4(await freePort()));
    expect(thrown(() => socket.finishConnect())).toBe('connection-refused');
  });

  test('refuses what a connect must not take: port 0, the unspecified address, the other family, a second connect', async () => {
    const network = instanceNetwork.instanceNetwork();
    const socket = tcpCreateSocket.createTcpSocket('ipv4');
    disposables.push(socket);
    expect(thrown(() => socket.startConnect(network, v4(0)))).toBe('invalid-argument');
    expect(thrown(() => socket.startConnect(network, v4(80, [0, 0, 0, 0])))).toBe('invalid-argument');
    expect(thrown(() => socket.startConnect(network, v6(80)))).toBe('invalid-argument');
    peer = await tcpPeer(() => {});
    socket.startConnect(network, v4(peer.port));
    expect(thrown(() => socket.startConnect(network, v4(peer!.port)))).toBe('invalid-state');
    expect(thrown(() => tcpCreateSocket.createTcpSocket('unix' as 'ipv4'))).toBe('not-supported');
  });

  test('never binds or listens for the component, and offers no socket options', () => {
    const socket = tcpCreateSocket.createTcpSocket('ipv4') as unknown as Record<string, () => unknown>;
    for (const name of ['startBind', 'startListen', 'accept', 'localAddress', 'setKeepAliveEnabled', 'setReceiveBufferSize']) {
      expect(thrown(() => socket[name]!()), name).toBe('not-supported');
    }
  });

  test('delivers what arrived before the peer closed, then says closed', async () => {
    peer = await tcpPeer((s) => s.end('last words'));
    const [input] = (await connect(v4(peer.port))).finishConnect();
    expect((await readAll(input)).toString()).toBe('last words');
    expect(thrown(() => input.read(1n))).toEqual({ tag: 'closed' });
  });

  test('a reset is last-operation-failed with an error resource naming it', async () => {
    peer = await tcpPeer((s) => s.once('data', () => s.resetAndDestroy()));
    const [input, output] = (await connect(v4(peer.port))).finishConnect();
    output.write(new Uint8Array([1]));
    const ready = input.subscribe();
    let failure: unknown;
    while (!failure) {
      await poll.poll([ready]);
      try {
        input.read(10n);
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toMatchObject({ tag: 'last-operation-failed' });
    const error = (failure as { val: { toDebugString(): string } }).val;
    expect(error).toBeInstanceOf(shimError.Error);
    expect(error.toDebugString()).toContain('ECONNRESET');
    expect(thrown(() => output.checkWrite())).toMatchObject({ tag: 'last-operation-failed' });
  });

  test('a peer that does not read: check-write falls to 0 and its pollable waits until the peer reads', async () => {
    let resume: () => void = () => {};
    let received = 0;
    peer = await tcpPeer((s) => {
      s.pause();
      s.on('data', (d) => (received += d.length));
      resume = () => s.resume();
    });
    const [, output] = (await connect(v4(peer.port))).finishConnect();
    const writable = output.subscribe();
    const chunk = new Uint8Array(65536);
    let written = 0;
    for (;;) {
      const room = output.checkWrite();
      if (room === 0n) break;
      const size = Math.min(Number(room), chunk.length);
      output.write(chunk.subarray(0, size));
      written += size;
    }
    expect(written).toBeGreaterThanOrEqual(WRITE_BUFFER_BYTES);
    expect(writable.ready()).toBe(false);
    expect([...(await poll.poll([writable, monotonicClock.subscribeDuration(20n * MS)]))]).toEqual([1]);
    resume();
    await poll.poll([writable]);
    expect(output.checkWrite()).toBeGreaterThan(0n);
    await expect.poll(() => received).toBe(written);
  });

  test('after flush, check-write is 0 until the bytes are handed to the system', async () => {
    peer = await tcpPeer(() => {});
    const [, output] = (await connect(v4(peer.port))).finishConnect();
    output.write(new Uint8Array(200_000));
    output.flush();
    const flushed = output.subscribe();
    await poll.poll([flushed]);
    expect(output.checkWrite()).toBe(BigInt(WRITE_BUFFER_BYTES));
  });

  test('a large reply arrives whole and in order while the reader keeps at most its buffer unread', async () => {
    const size = 3 * READ_BUFFER_BYTES + 12_345;
    const sent = Buffer.alloc(size);
    for (let i = 0; i < size; i++) sent[i] = (i * 7) & 0xff;
    peer = await tcpPeer((s) => s.end(sent));
    const [input] = (await connect(v4(peer.port))).finishConnect();
    expect((await readAll(input)).equals(sent)).toBe(true);
  });

  // jco files every object of a class it is handed in one table, keyed by the object's rep, so one with the rep
  // of a live preview2-shim object would take its place. Whether the two ever meet depends on how far jco's own
  // numbering and preview2-shim's ids have run, which no request can steer: a run of 60 requests on one instance
  // (Node 20 and 24) passed with the reps taken out. The range, apart from preview2-shim's ids, is what keeps them
  // apart, so the range is what is checked.
  test('its objects carry reps apart from preview2-shim ids, so jco never files one in the place of the other', async () => {
    const a = monotonicClock.subscribeDuration(0n) as unknown as Record<symbol, number>;
    const b = monotonicClock.subscribeDuration(0n) as unknown as Record<symbol, number>;
    const rep = Symbol.for('cabiRep');
    expect(a).toBeInstanceOf(shimPoll.Pollable);
    expect(a[rep]).toBeGreaterThanOrEqual(0x2000_0000);
    expect(a[rep]).toBeLessThan(0x4000_0000);
    expect(b[rep]).not.toBe(a[rep]);
  });
});

describe('poll and the clock', () => {
  test('a timer is ready once its time has come; poll returns the ready indexes', async () => {
    const start = monotonicClock.now();
    const later = monotonicClock.subscribeDuration(60_000n * MS);
    expect(later.ready()).toBe(false);
    const soon = monotonicClock.subscribeInstant(start + 5n * MS);
    expect([...(await poll.poll([later, soon]))]).toEqual([1]);
    expect(monotonicClock.now() - start).toBeGreaterThanOrEqual(5n * MS);
    const timer = monotonicClock.subscribeDuration(15n * MS);
    await timer.block();
    expect(monotonicClock.now() - start).toBeGreaterThanOrEqual(20n * MS);
    expect(timer.ready()).toBe(true);
  });

  test('an empty list is an error, not a wait forever', async () => {
    await expect(poll.poll([])).rejects.toThrow(/empty/);
  });

  test('a preview2-shim pollable in the list is asked through its own ready()', async () => {
    const foreign = Object.assign(Object.create(shimPoll.Pollable.prototype), { ready: () => true });
    expect([...(await poll.poll([monotonicClock.subscribeDuration(60_000n * MS), foreign]))]).toEqual([1]);
  });
});

describe('ip-name-lookup', () => {
  const resolve = async (name: string) => {
    const stream = ipNameLookup.resolveAddresses(instanceNetwork.instanceNetwork(), name);
    await poll.poll([stream.subscribe()]);
    const found = [];
    for (let next = stream.resolveNextAddress(); next !== undefined; next = stream.resolveNextAddress()) found.push(next);
    return found;
  };

  test('an address is its own answer, in both families and in brackets', async () => {
    expect(await resolve('127.0.0.1')).toEqual([{ tag: 'ipv4', val: [127, 0, 0, 1] }]);
    expect(await resolve('::1')).toEqual([{ tag: 'ipv6', val: [0, 0, 0, 0, 0, 0, 0, 1] }]);
    expect(await resolve('[2001:db8::8:800:200c:417a]')).toEqual([{ tag: 'ipv6', val: [0x2001, 0xdb8, 0, 0, 0x8, 0x800, 0x200c, 0x417a] }]);
    expect(await resolve('::ffff:192.0.2.1')).toEqual([{ tag: 'ipv6', val: [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201] }]);
    expect(await resolve('fe80::')).toEqual([{ tag: 'ipv6', val: [0xfe80, 0, 0, 0, 0, 0, 0, 0] }]);
  });

  test('localhost resolves to a loopback address through the system resolver', async () => {
    const found = await resolve('localhost');
    expect(found.length).toBeGreaterThan(0);
    for (const address of found) expect(address.tag === 'ipv4' ? address.val[0] : address.val.at(-1)).toBe(address.tag === 'ipv4' ? 127 : 1);
  });

  test('a name that is not a host name is invalid-argument; a name nobody has is name-unresolvable', async () => {
    for (const name of ['', 'a b', 'host:80', 'user@host', 'host/path']) {
      expect(thrown(() => ipNameLookup.resolveAddresses(instanceNetwork.instanceNetwork(), name)), name).toBe('invalid-argument');
    }
    const stream = ipNameLookup.resolveAddresses(instanceNetwork.instanceNetwork(), 'no-such-name.invalid');
    expect(thrown(() => stream.resolveNextAddress())).toBe('would-block');
    await poll.poll([stream.subscribe()]);
    expect(thrown(() => stream.resolveNextAddress())).toBe('name-unresolvable');
  });
});


describe('udp-socket', () => {
  type Family = 'ipv4' | 'ipv6';
  type UdpSocket = InstanceType<typeof udp.UdpSocket>;
  type Incoming = InstanceType<typeof udp.IncomingDatagramStream>;
  type Outgoing = InstanceType<typeof udp.OutgoingDatagramStream>;
  const loopback = (family: Family, port: number) => (family === 'ipv4' ? v4(port) : v6(port));
  const loopbackHost = (family: Family) => (family === 'ipv4' ? '127.0.0.1' : '::1');
  const families: Family[] = ipv6 ? ['ipv4', 'ipv6'] : ['ipv4'];

  /** Creates and binds a socket as the component does: the unspecified address, port 0, then wait and finish. */
  async function bound(family: Family = 'ipv4'): Promise<UdpSocket> {
    const socket = udpCreateSocket.createUdpSocket(family);
    disposables.push(socket);
    socket.startBind(instanceNetwork.instanceNetwork(), family === 'ipv4' ? v4(0, [0, 0, 0, 0]) : v6(0, [0, 0, 0, 0, 0, 0, 0, 0]));
    await poll.poll([socket.subscribe()]);
    socket.finishBind();
    return socket;
  }

  /** A bound socket's streams, kept for release after the test (before the socket). */
  function streams(socket: UdpSocket, remote?: Ip): { incoming: Incoming; outgoing: Outgoing } {
    const [incoming, outgoing] = socket.stream(remote);
    disposables.push(incoming, outgoing);
    return { incoming, outgoing };
  }

  async function peerOn(family: Family, onMessage?: Parameters<typeof udpPeer>[0]) {
    const made = await udpPeer(onMessage, { host: loopbackHost(family) });
    udpPeers.push(made);
    return made;
  }

  /** Sends as the component does: ask check-send, wait on the stream while it permits nothing, send. */
  async function send(outgoing: Outgoing, datagrams: { data: Uint8Array; remoteAddress?: Ip }[]) {
    while (outgoing.checkSend() === 0n) await poll.poll([outgoing.subscribe()]);
    return outgoing.send(datagrams);
  }

  /** Receives until `count` datagrams have come, waiting on the stream's pollable between receives. */
  async function receive(incoming: Incoming, count: number) {
    const got: { data: Uint8Array; remoteAddress: Ip }[] = [];
    const ready = incoming.subscribe();
    while (got.length < count) {
      await poll.poll([ready]);
      got.push(...incoming.receive(BigInt(count - got.length)));
    }
    return got;
  }

  /** Waits until the kernel holds nothing unread for `port`: Node has read every datagram sent there into the socket's queue. */
  async function delivered(family: Family, port: number) {
    await expect.poll(() => kernelUdpSocket(family, port)?.rxQueue).toBe(0);
  }

  const localPort = (socket: UdpSocket) => socket.localAddress().val.port;
  const text = (data: Uint8Array) => Buffer.from(data).toString();

  test.each(families)('over %s: a connected stream sends to its peer and receives the peer\'s answer from its address', async (family) => {
    const echo = await peerOn(family);
    const socket = await bound(family);
    expect(socket.addressFamily()).toBe(family);
    expect(localPort(socket)).toBeGreaterThan(0);
    expect(socket.localAddress().tag).toBe(family);
    expect(thrown(() => socket.remoteAddress())).toBe('invalid-state');
    const { incoming, outgoing } = streams(socket, loopback(family, echo.port));
    expect(incoming).toBeInstanceOf(udp.IncomingDatagramStream);
    expect(outgoing).toBeInstanceOf(udp.OutgoingDatagramStream);
    expect(socket.remoteAddress()).toEqual(loopback(family, echo.port));
    expect(incoming.receive(10n)).toEqual([]);
    expect(outgoing.checkSend()).toBe(BigInt(SEND_QUEUE_DATAGRAMS));
    expect(await send(outgoing, [{ data: Buffer.from('ping') }, { data: Buffer.from('pong'), remoteAddress: loopback(family, echo.port) }])).toBe(2n);
    const [first, second] = await receive(incoming, 2);
    expect(text(first!.data)).toBe('ping');
    expect(text(second!.data)).toBe('pong');
    expect(first!.remoteAddress).toEqual(loopback(family, echo.port));
  });

  test('an unconnected stream sends where each datagram says, refuses one that names no valid peer, and hears anyone', async () => {
    const echo = await peerOn('ipv4');
    const other = await peerOn('ipv4', (data, from, s) => s.send(Buffer.concat([Buffer.from('other:'), data]), from.port, from.address));
    const socket = await bound();
    const { incoming, outgoing } = streams(socket);
    expect(thrown(() => socket.remoteAddress())).toBe('invalid-state');
    for (const remoteAddress of [undefined, v4(0), v4(echo.port, [0, 0, 0, 0]), v6(echo.port)]) {
      outgoing.checkSend();
      expect(thrown(() => outgoing.send([{ data: Buffer.from('x'), remoteAddress }])), JSON.stringify(remoteAddress)).toBe('invalid-argument');
    }
    expect(await send(outgoing, [{ data: Buffer.from('a'), remoteAddress: v4(echo.port) }, { data: Buffer.from('b'), remoteAddress: v4(other.port) }])).toBe(2n);
    const got = await receive(incoming, 2);
    const byPort = Object.fromEntries(got.map((d) => [d.remoteAddress.val.port, text(d.data)]));
    expect(byPort).toEqual({ [echo.port]: 'a', [other.port]: 'other:b' });
  });

  test('a connected stream never delivers a datagram from another port, whether it came before or after the connect', async () => {
    const echo = await peerOn('ipv4');
    const stranger = await peerOn('ipv4', () => {});
    const socket = await bound();
    const port = localPort(socket);
    await sendFrom(stranger.socket, 'early stranger', port, '127.0.0.1');
    await delivered('ipv4', port);
    const { incoming, outgoing } = streams(socket, v4(echo.port));
    await sendFrom(stranger.socket, 'late stranger', port, '127.0.0.1');
    await send(outgoing, [{ data: Buffer.from('from the peer') }]);
    const [reply] = await receive(incoming, 1);
    expect(text(reply!.data)).toBe('from the peer');
    expect(incoming.receive(10n)).toEqual([]);
    expect(kernelUdpSocket('ipv4', port)).toEqual({ rxQueue: 0, drops: 0 });
  });

  test.each(families)('over %s: a datagram one byte over the largest is datagram-too-large; the largest arrives whole', async (family) => {
    const echo = await peerOn(family);
    const socket = await bound(family);
    const { incoming, outgoing } = streams(socket, loopback(family, echo.port));
    const largest = MAX_DATAGRAM_BYTES[family];
    expect(largest).toBe(family === 'ipv4' ? 65_507 : 65_527);
    outgoing.checkSend();
    expect(thrown(() => outgoing.send([{ data: new Uint8Array(largest + 1) }]))).toBe('datagram-too-large');
    // Sent in order until one is refused: the first goes, and the call says 1 rather than failing.
    const whole = new Uint8Array(largest).map((_, i) => i & 0xff);
    expect(await send(outgoing, [{ data: whole }, { data: new Uint8Array(largest + 1) }])).toBe(1n);
    const [reply] = await receive(incoming, 1);
    expect(Buffer.from(reply!.data).equals(Buffer.from(whole))).toBe(true);
  });

  test('receive(max) answers at once with at most max datagrams, in order, and an empty list for 0 or nothing queued', async () => {
    const talker = await peerOn('ipv4', () => {});
    const socket = await bound();
    const port = localPort(socket);
    const { incoming } = streams(socket, v4(talker.port));
    for (const n of [1, 2, 3, 4, 5]) await sendFrom(talker.socket, `d${n}`, port, '127.0.0.1');
    await delivered('ipv4', port);
    expect(incoming.receive(0n)).toEqual([]);
    expect(incoming.receive(2n).map((d) => text(d.data))).toEqual(['d1', 'd2']);
    expect(incoming.receive(1n << 40n).map((d) => text(d.data))).toEqual(['d3', 'd4', 'd5']);
    expect(incoming.receive(10n)).toEqual([]);
    expect(incoming.subscribe().ready()).toBe(false);
  });

  test(`the receive queue keeps ${RECEIVE_QUEUE_DATAGRAMS} datagrams and drops later arrivals, as a full kernel buffer would`, async () => {
    const talker = await peerOn('ipv4', () => {});
    const socket = await bound();
    const port = localPort(socket);
    const { incoming } = streams(socket, v4(talker.port));
    const total = RECEIVE_QUEUE_DATAGRAMS + 50;
    // In batches the kernel's own buffer holds, each read by Node before the next: the drops are the queue's.
    for (let sent = 0; sent < total; ) {
      for (const end = Math.min(total, sent + 100); sent < end; sent++) await sendFrom(talker.socket, String(sent), port, '127.0.0.1');
      await delivered('ipv4', port);
    }
    expect(kernelUdpSocket('ipv4', port)?.drops).toBe(0);
    const kept = incoming.receive(BigInt(total));
    expect(kept.length).toBe(RECEIVE_QUEUE_DATAGRAMS);
    expect(kept.map((d) => Number(text(d.data)))).toEqual([...Array(RECEIVE_QUEUE_DATAGRAMS).keys()]);
    // Room again once received.
    await sendFrom(talker.socket, 'after', port, '127.0.0.1');
    expect(text((await receive(incoming, 1))[0]!.data)).toBe('after');
  });

  test(`the receive queue keeps at most ${RECEIVE_QUEUE_BYTES} bytes: a datagram that would pass it is dropped, a smaller one still fits`, async () => {
    const talker = await peerOn('ipv4', () => {});
    const socket = await bound();
    const port = localPort(socket);
    const { incoming } = streams(socket, v4(talker.port));
    const size = 64_000;
    const fit = Math.floor(RECEIVE_QUEUE_BYTES / size);
    for (let i = 0; i <= fit; i++) {
      await sendFrom(talker.socket, Buffer.alloc(size, i), port, '127.0.0.1');
      await delivered('ipv4', port);
    }
    const room = RECEIVE_QUEUE_BYTES - fit * size;
    await sendFrom(talker.socket, Buffer.alloc(room, 0xee), port, '127.0.0.1');
    await delivered('ipv4', port);
    expect(kernelUdpSocket('ipv4', port)?.drops).toBe(0);
    const kept = incoming.receive(100n);
    expect(kept.map((d) => [d.data.length, d.data[0]])).toEqual([...[...Array(fit).keys()].map((i) => [size, i]), [room, 0xee]]);
  });

  test('poll suspends until a datagram arrives, then names the stream', async () => {
    const talker = await peerOn('ipv4', () => {});
    const socket = await bound();
    const { incoming } = streams(socket, v4(talker.port));
    const ready = incoming.subscribe();
    expect(ready.ready()).toBe(false);
    let woke = false;
    const polled = poll.poll([monotonicClock.subscribeDuration(60_000n * MS), ready]).then((list) => {
      woke = true;
      return [...list];
    });
    // Let the poll settle into its wait; it must not return before the datagram.
    await poll.poll([monotonicClock.subscribeDuration(20n * MS)]);
    expect(woke).toBe(false);
    await sendFrom(talker.socket, 'wake up', localPort(socket), '127.0.0.1');
    expect(await polled).toEqual([1]);
    expect(text(incoming.receive(1n)[0]!.data)).toBe('wake up');
  });

  test('refuses what the WIT refuses: stream or addresses before bind, a second bind, the other family, a fixed port, a bad peer', async () => {
    const network = instanceNetwork.instanceNetwork();
    const socket = udpCreateSocket.createUdpSocket('ipv4');
    disposables.push(socket);
    expect(thrown(() => socket.stream(undefined))).toBe('invalid-state');
    expect(thrown(() => socket.stream(v4(53)))).toBe('invalid-state');
    expect(thrown(() => socket.localAddress())).toBe('invalid-state');
    expect(thrown(() => socket.finishBind())).toBe('not-in-progress');
    expect(thrown(() => socket.startBind(network, v6(0, [0, 0, 0, 0, 0, 0, 0, 0])))).toBe('invalid-argument');
    expect(thrown(() => socket.startBind(network, v4(5353, [0, 0, 0, 0])))).toBe('access-denied');
    socket.startBind(network, v4(0, [0, 0, 0, 0]));
    expect(thrown(() => socket.startBind(network, v4(0, [0, 0, 0, 0])))).toBe('invalid-state');
    socket.finishBind();
    expect(thrown(() => socket.finishBind())).toBe('not-in-progress');
    for (const remote of [v4(0), v4(53, [0, 0, 0, 0]), v6(53)]) expect(thrown(() => socket.stream(remote)), JSON.stringify(remote)).toBe('invalid-argument');
    expect(thrown(() => udpCreateSocket.createUdpSocket('unix' as Family))).toBe('not-supported');
  });

  test.runIf(ipv6)('an IPv6 socket is IPv6-only: an IPv4-mapped address is invalid-argument', async () => {
    const socket = await bound('ipv6');
    expect(thrown(() => socket.stream(v6(53, [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1])))).toBe('invalid-argument');
  });

  test('a bind to an address the machine does not have: address-not-bindable at finish-bind', async () => {
    const socket = udpCreateSocket.createUdpSocket('ipv4');
    disposables.push(socket);
    socket.startBind(instanceNetwork.instanceNetwork(), v4(0, [192, 0, 2, 1]));
    await poll.poll([socket.subscribe()]);
    expect(thrown(() => socket.finishBind())).toBe('address-not-bindable');
    expect(thrown(() => socket.stream(undefined))).toBe('invalid-state');
  });

  test('stream again traps while the last streams are held, and re-associates once both are dropped', async () => {
    const first = await peerOn('ipv4');
    const second = await peerOn('ipv4', (data, from, s) => s.send(Buffer.concat([Buffer.from('2:'), data]), from.port, from.address));
    const socket = await bound();
    const [incoming, outgoing] = socket.stream(v4(first.port));
    drop(incoming);
    expect(() => socket.stream(v4(second.port))).toThrow(/dropped before/);
    drop(outgoing);
    const again = streams(socket, v4(second.port));
    expect(socket.remoteAddress()).toEqual(v4(second.port));
    await send(again.outgoing, [{ data: Buffer.from('hi') }]);
    expect(text((await receive(again.incoming, 1))[0]!.data)).toBe('2:hi');
    expect(second.received.map(String)).toEqual(['hi']);
    expect(first.received).toEqual([]);
  });

  test('send beyond what check-send permitted traps, as does a send with no check-send before it', async () => {
    const echo = await peerOn('ipv4');
    const { outgoing } = streams(await bound(), v4(echo.port));
    const one = { data: Buffer.from('x') };
    expect(() => outgoing.send([one])).toThrow(/check-send permitted 0/);
    const permitted = Number(outgoing.checkSend());
    expect(() => outgoing.send(Array(permitted + 1).fill(one))).toThrow(new RegExp(`check-send permitted ${permitted}`));
    expect(outgoing.send([])).toBe(0n);
  });

  test('a connected stream to a port nobody listens on: connection-refused on receive, told once', async () => {
    const socket = await bound();
    const { incoming, outgoing } = streams(socket, v4(await freePort()));
    await send(outgoing, [{ data: Buffer.from('anyone?') }]);
    await poll.poll([incoming.subscribe()]);
    expect(thrown(() => incoming.receive(1n))).toBe('connection-refused');
    expect(incoming.receive(1n)).toEqual([]);
  });

  test('a connect the kernel refuses (broadcast without SO_BROADCAST): nothing permitted until Node reports it, then access-denied', async () => {
    const socket = await bound();
    const { incoming, outgoing } = streams(socket, v4(9, [255, 255, 255, 255]));
    expect(outgoing.checkSend()).toBe(0n);
    expect(incoming.receive(1n)).toEqual([]);
    expect(thrown(() => socket.remoteAddress())).toBe('invalid-state');
    expect([...(await poll.poll([outgoing.subscribe()]))]).toEqual([0]);
    expect(thrown(() => outgoing.checkSend())).toBe('access-denied');
    expect(thrown(() => incoming.receive(1n))).toBe('access-denied');
    expect(thrown(() => socket.remoteAddress())).toBe('invalid-state');
  });

  test('the hop limit and buffer sizes: 0 is invalid-argument; set before bind they are applied at bind', async () => {
    const socket = udpCreateSocket.createUdpSocket('ipv4');
    disposables.push(socket);
    expect(socket.unicastHopLimit()).toBe(64);
    expect(thrown(() => socket.setUnicastHopLimit(0))).toBe('invalid-argument');
    expect(thrown(() => socket.setReceiveBufferSize(0n))).toBe('invalid-argument');
    expect(thrown(() => socket.setSendBufferSize(0n))).toBe('invalid-argument');
    expect(thrown(() => socket.receiveBufferSize())).toBe('invalid-state');
    socket.setUnicastHopLimit(7);
    socket.setReceiveBufferSize(50_000n);
    expect(socket.receiveBufferSize()).toBe(50_000n);
    socket.startBind(instanceNetwork.instanceNetwork(), v4(0, [0, 0, 0, 0]));
    socket.finishBind();
    expect(socket.unicastHopLimit()).toBe(7);
    // The kernel answers with what it reserved (Linux doubles the request for its bookkeeping).
    const applied = socket.receiveBufferSize();
    expect(applied).toBeGreaterThanOrEqual(50_000n);
    socket.setSendBufferSize(70_000n);
    expect(socket.sendBufferSize()).toBeGreaterThanOrEqual(70_000n);
    socket.setReceiveBufferSize(1n << 62n);
    expect(socket.receiveBufferSize()).toBeGreaterThan(0n);
  });

  test('dropping the streams and then the socket closes the dgram socket: the kernel has no socket left on its port', async () => {
    const echo = await peerOn('ipv4');
    const socket = udpCreateSocket.createUdpSocket('ipv4');
    socket.startBind(instanceNetwork.instanceNetwork(), v4(0, [0, 0, 0, 0]));
    socket.finishBind();
    const port = localPort(socket);
    const [incoming, outgoing] = socket.stream(v4(echo.port));
    expect(kernelUdpSocket('ipv4', port)).toBeDefined();
    drop(incoming);
    drop(outgoing);
    expect(kernelUdpSocket('ipv4', port)).toBeDefined();
    drop(socket);
    expect(kernelUdpSocket('ipv4', port)).toBeUndefined();
  });

  test('streams of a dropped socket say invalid-state, and their pollables are ready so no poll waits on them forever', async () => {
    const echo = await peerOn('ipv4');
    const socket = udpCreateSocket.createUdpSocket('ipv4');
    socket.startBind(instanceNetwork.instanceNetwork(), v4(0, [0, 0, 0, 0]));
    socket.finishBind();
    const port = localPort(socket);
    const { incoming, outgoing } = streams(socket, v4(echo.port));
    drop(socket);
    expect(kernelUdpSocket('ipv4', port)).toBeUndefined();
    expect([...(await poll.poll([incoming.subscribe(), outgoing.subscribe()]))]).toEqual([0, 1]);
    expect(thrown(() => incoming.receive(1n))).toBe('invalid-state');
    expect(thrown(() => outgoing.checkSend())).toBe('invalid-state');
  });
});
