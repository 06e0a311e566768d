// The local host's sockets on the worker's own thread (host/wasi-sockets-in-thread.mjs), called as the
// component calls them, against real loopback peers. Runs on every Node: only the component's suspension needs
// JSPI; here `poll` is awaited directly.

import { afterEach, describe, expect, test } from 'vitest';
import { error as shimError, poll as shimPoll, streams } from '@bytecodealliance/preview2-shim/io';
import {
  READ_BUFFER_BYTES,
  WRITE_BUFFER_BYTES,
  instanceNetwork,
  ipNameLookup,
  monotonicClock,
  poll,
  tcpCreateSocket,
} from '../../host/wasi-sockets-in-thread.mjs';
import { freePort, tcpPeer, type Peer } from '../support/tcp-peers.mjs';
import { hasIpv6Loopback } from '../support/peers.js';

type Ip = { tag: 'ipv4' | 'ipv6'; val: { port: number; address: number[]; flowInfo?: number; scopeId?: number } };
const v4 = (port: number, address = [127, 0, 0, 1]): Ip => ({ tag: 'ipv4', val: { port, address } });
const v6 = (port: number, address = [0, 0, 0, 0, 0, 0, 0, 1]): Ip => ({ tag: 'ipv6', val: { port, flowInfo: 0, scopeId: 0, address } });
const MS = 1_000_000n;
const ipv6 = await hasIpv6Loopback();

let peer: Peer | undefined;
/** Sockets to release after each test, as the component's resource drops release them. */
const disposables: object[] = [];
afterEach(async () => {
  for (const d of disposables.splice(0)) (d as Disposable)[Symbol.dispose]();
  await peer?.close();
  peer = undefined;
});

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

