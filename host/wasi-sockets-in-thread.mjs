// wasi:sockets (TCP, UDP and name lookup), wasi:io/poll and the monotonic clock on the pool worker's own thread,
// for Node with JSPI (`WebAssembly.Suspending`, Node 24+). preview2-shim runs every socket, stream and poll call as
// a synchronous round trip to its I/O thread; here the sockets are the worker's own `node:net` and `node:dgram`
// sockets, every call except `poll` and `pollable.block` answers at once from what the socket has delivered, and
// those two suspend the component (jco's JSPI mode) until an event makes a pollable ready.
//
// Streams, pollables and errors are instances of preview2-shim's classes, made by host/host-resource.mjs.

import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';
import { hrtime } from 'node:process';
import { network } from '@bytecodealliance/preview2-shim/sockets';
import { error as shimError, poll as shimPoll, streams } from '@bytecodealliance/preview2-shim/io';
import { hostResource } from './host-resource.mjs';

const symbolDispose = Symbol.dispose ?? Symbol.for('dispose');

/** Bytes a socket may hold unread before it stops reading from the peer (TCP flow control does the rest). */
export const READ_BUFFER_BYTES = 1 << 20;
/** Bytes queued for writing beyond which `check-write` says 0 until the socket drains. */
export const WRITE_BUFFER_BYTES = 1 << 20;

// ---- Waking: every socket event and timer wakes the pending polls, which look again at their pollables. ----

/** @type {Array<() => void>} */
let sleepers = [];
function wake() {
  const woken = sleepers;
  sleepers = [];
  for (const resume of woken) resume();
}

/** What this module knows of a pollable it made: whether it is ready, and for a timer, when it will be. */
const POLLABLE = Symbol('pollable');

/**
 * @param {() => boolean} isReady
 * @param {bigint} [at] monotonic time (ns) at which a timer becomes ready
 */
function pollable(isReady, at) {
  const made = hostResource(shimPoll.Pollable.prototype, { [POLLABLE]: { isReady, at }, ready: isReady, [symbolDispose]() {} });
  return Object.assign(made, { block: () => pollList([made]).then(() => undefined) });
}

/**
 * Waits until at least one pollable of `list` is ready; returns the indexes of the ready ones.
 * A pollable from preview2-shim (a stream this module did not make) is asked through its own `ready`, and
 * looked at again every millisecond while it is the only thing that could end the wait.
 * @param {any[]} list
 * @returns {Promise<Uint32Array>}
 */
async function pollList(list) {
  if (list.length === 0) throw new Error('wasi:io/poll.poll: the list of pollables is empty');
  for (;;) {
    /** @type {number[]} */
    const ready = [];
    let nextTimer = -1n;
    let foreign = false;
    for (let i = 0; i < list.length; i++) {
      const own = list[i][POLLABLE];
      if (own === undefined) foreign = true;
      if (own ? own.isReady() : list[i].ready()) ready.push(i);
      else if (own?.at !== undefined && (nextTimer < 0n || own.at < nextTimer)) nextTimer = own.at;
    }
    if (ready.length > 0) return Uint32Array.from(ready);
    await new Promise((resume) => {
      /** @type {NodeJS.Timeout | undefined} */
      let timer;
      const done = () => {
        clearTimeout(timer);
        resume(undefined);
      };
      sleepers.push(done);
      const waitNs = nextTimer < 0n ? -1n : nextTimer - hrtime.bigint();
      const waitMs = foreign ? 1 : waitNs < 0n ? -1 : Math.ceil(Number(waitNs) / 1e6);
      if (waitMs >= 0) timer = setTimeout(done, waitMs);
    });
  }
}

export const poll = {
  Pollable: shimPoll.Pollable,
  /** @param {any[]} list */
  poll: pollList,
};

// ---- wasi:clocks/monotonic-clock ----

/** @param {bigint} at */
function timerAt(at) {
  return pollable(() => hrtime.bigint() >= at, at);
}

export const monotonicClock = {
  now: () => hrtime.bigint(),
  resolution: () => 1n,
  /** @param {bigint} instant */
  subscribeInstant: (instant) => timerAt(instant),
  /** @param {bigint} duration */
  subscribeDuration: (duration) => timerAt(hrtime.bigint() + duration),
};

// ---- Errors ----

/** The `wasi:sockets/network.error-code` of a Node socket error (TCP and UDP), as preview2-shim maps them. */
const SOCKET_ERROR_CODES = /** @type {Record<string, string>} */ ({
  EACCES: 'access-denied',
  EPERM: 'access-denied',
  EINVAL: 'invalid-argument',
  ENOMEM: 'out-of-memory',
  ENOBUFS: 'out-of-memory',
  EMFILE: 'new-socket-limit',
  ENFILE: 'new-socket-limit',
  EADDRNOTAVAIL: 'address-not-bindable',
  EADDRINUSE: 'address-in-use',
  EHOSTUNREACH: 'remote-unreachable',
  EHOSTDOWN: 'remote-unreachable',
  ENETUNREACH: 'remote-unreachable',
  ENETDOWN: 'remote-unreachable',
  ECONNREFUSED: 'connection-refused',
  ECONNRESET: 'connection-reset',
  ECONNABORTED: 'connection-aborted',
  ETIMEDOUT: 'timeout',
  EMSGSIZE: 'datagram-too-large',
});

/** @param {unknown} error */
function socketErrorCode(error) {
  return SOCKET_ERROR_CODES[/** @type {{ code?: string }} */ (error)?.code ?? ''] ?? 'unknown';
}

/** A stream error for the component: `last-operation-failed` with an `error` resource naming the cause. */
function lastOperationFailed(/** @type {Error} */ cause) {
  const val = hostResource(shimError.Error.prototype, {
    payload: cause,
    message: cause.message,
    toDebugString: () => `${/** @type {{ code?: string }} */ (cause).code ?? 'error'}: ${cause.message}`,
    [symbolDispose]() {},
  });
  return { tag: 'last-operation-failed', val };
}

// ---- wasi:sockets/tcp ----

/** @param {{ tag: string, val: { address: number[], port: number } }} address */
function ipText(address) {
  const parts = address.val.address;
  return address.tag === 'ipv4' ? parts.join('.') : parts.map((n) => n.toString(16)).join(':');
}

/**
 * An address as Node prints it (`1.2.3.4`, `2001:db8::1`, `::ffff:1.2.3.4`) as a WIT `ip-address`.
 * @param {string} text
 */
function ipTuple(text) {
  if (isIP(text) === 4) return { tag: 'ipv4', val: text.split('.').map(Number) };
  /** @param {string} part */
  const groups = (part) =>
    part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ipv4Groups(g) : [parseInt(g, 16)]));
  const [head = '', tail] = text.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  return { tag: 'ipv6', val: [...left, ...Array(8 - left.length - right.length).fill(0), ...right] };
}

/** An embedded IPv4 address as the two 16-bit groups it fills. @param {string} text */
function ipv4Groups(text) {
  const [a = 0, b = 0, c = 0, d = 0] = text.split('.').map(Number);
  return [(a << 8) | b, (c << 8) | d];
}

/** A connected socket's reading side: what the peer sent, waiting to be read. */
class Incoming {
  /** @type {Buffer[]} */
  chunks = [];
  buffered = 0;
  ended = false;
  /** @type {Error | undefined} */
  failed;
  /** @param {Socket} socket */
  constructor(socket) {
    this.socket = socket;
    socket.on('data', (/** @type {Buffer} */ data) => {
      this.chunks.push(data);
      this.buffered += data.length;
      if (this.buffered >= READ_BUFFER_BYTES) socket.pause();
      wake();
    });
    socket.on('end', () => {
      this.ended = true;
      wake();
    });
  }
  /** @param {bigint} len */
  read(len) {
    if (this.buffered === 0) {
      if (this.failed) throw lastOperationFailed(this.failed);
      if (this.ended || this.socket.destroyed) throw { tag: 'closed' };
      return new Uint8Array(0);
    }
    const want = Math.min(Number(len > BigInt(READ_BUFFER_BYTES) ? BigInt(READ_BUFFER_BYTES) : len), this.buffered);
    const out = new Uint8Array(want);
    let at = 0;
    while (at < want) {
      const chunk = /** @type {Buffer} */ (this.chunks[0]);
      const take = Math.min(chunk.length, want - at);
      out.set(chunk.subarray(0, take), at);
      at += take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
    this.buffered -= want;
    if (this.buffered < READ_BUFFER_BYTES && this.socket.isPaused()) this.socket.resume();
    return out;
  }
  isReady() {
    return this.buffered > 0 || this.ended || this.failed !== undefined || this.socket.destroyed;
  }
}

/** A connected socket's writing side. */
class Outgoing {
  /** Writes handed to Node and not yet passed to the kernel. */
  pending = 0;
  flushing = false;
  shut = false;
  /** @type {Error | undefined} */
  failed;
  /** @param {Socket} socket */
  constructor(socket) {
    this.socket = socket;
  }
  checkWrite() {
    if (this.failed) throw lastOperationFailed(this.failed);
    if (this.shut || this.socket.destroyed) throw { tag: 'closed' };
    if (this.flushing && this.pending > 0) return 0n;
    this.flushing = false;
    return BigInt(Math.max(0, WRITE_BUFFER_BYTES - this.socket.writableLength));
  }
  /** @param {Uint8Array} bytes */
  write(bytes) {
    const room = this.checkWrite();
    if (BigInt(bytes.length) > room) throw lastOperationFailed(new Error(`write of ${bytes.length} bytes exceeds check-write's ${room}`));
    if (bytes.length === 0) return;
    this.pending++;
    this.socket.write(Buffer.from(bytes), () => {
      this.pending--;
      wake();
    });
  }
  flush() {
    this.checkWrite();
    this.flushing = this.pending > 0;
  }
  isReady() {
    if (this.failed || this.shut || this.socket.destroyed) return true;
    if (this.flushing) return this.pending === 0;
    return this.socket.writableLength < WRITE_BUFFER_BYTES;
  }
}

/** @param {Incoming} incoming */
function inputStream(incoming) {
  const refuseBlocking = () => {
    throw new Error('input-stream: blocking calls are not available on sockets in this host; poll, then read');
  };
  return hostResource(streams.InputStream.prototype, {
    read: (/** @type {bigint} */ len) => incoming.read(len),
    skip: (/** @type {bigint} */ len) => BigInt(incoming.read(len).length),
    blockingRead: refuseBlocking,
    blockingSkip: refuseBlocking,
    subscribe: () => pollable(() => incoming.isReady()),
    [symbolDispose]() {},
  });
}

/** @param {Outgoing} outgoing */
function outputStream(outgoing) {
  const refuse = () => {
    throw new Error('output-stream: blocking calls, splice and write-zeroes are not available on sockets in this host');
  };
  return hostResource(streams.OutputStream.prototype, {
    checkWrite: () => outgoing.checkWrite(),
    write: (/** @type {Uint8Array} */ bytes) => outgoing.write(bytes),
    flush: () => outgoing.flush(),
    blockingFlush: refuse,
    blockingWriteAndFlush: refuse,
    writeZeroes: refuse,
    blockingWriteZeroesAndFlush: refuse,
    splice: refuse,
    blockingSplice: refuse,
    subscribe: () => pollable(() => outgoing.isReady()),
    [symbolDispose]() {},
  });
}

/** A `wasi:sockets/tcp.tcp-socket` that connects (this host never binds or listens for a component). */
export class TcpSocket {
  #family;
  /** @type {'unbound' | 'connecting' | 'connected' | 'failed' | 'taken'} */
  #state = 'unbound';
  /** @type {Socket | undefined} */
  #socket;
  /** @type {Error | undefined} */
  #error;
  /** @type {Incoming | undefined} */
  #incoming;
  /** @type {Outgoing | undefined} */
  #outgoing;

  /** @param {'ipv4' | 'ipv6'} family */
  constructor(family) {
    this.#family = family;
  }

  /**
   * @param {unknown} _network
   * @param {{ tag: string, val: { address: number[], port: number } }} remote
   */
  startConnect(_network, remote) {
    if (this.#state !== 'unbound') throw 'invalid-state';
    if (remote.tag !== this.#family) throw 'invalid-argument';
    const host = ipText(remote);
    if (remote.val.port === 0 || remote.val.address.every((n) => n === 0)) throw 'invalid-argument';
    const socket = new Socket();
    this.#socket = socket;
    this.#state = 'connecting';
    socket.once('connect', () => {
      this.#state = 'connected';
      wake();
    });
    socket.on('error', (error) => {
      this.#error = error;
      if (this.#state === 'connecting') this.#state = 'failed';
      if (this.#incoming) this.#incoming.failed = error;
      if (this.#outgoing) this.#outgoing.failed = error;
      wake();
    });
    socket.on('close', wake);
    socket.connect({ host, port: remote.val.port, family: this.#family === 'ipv4' ? 4 : 6 });
  }

  /** @returns {[ReturnType<typeof inputStream>, ReturnType<typeof outputStream>]} */
  finishConnect() {
    switch (this.#state) {
      case 'connecting':
        throw 'would-block';
      case 'failed':
        this.#state = 'taken';
        throw socketErrorCode(this.#error);
      case 'connected': {
        this.#state = 'taken';
        const socket = /** @type {Socket} */ (this.#socket);
        this.#incoming = new Incoming(socket);
        this.#incoming.failed = this.#error;
        this.#outgoing = new Outgoing(socket);
        this.#outgoing.failed = this.#error;
        return [inputStream(this.#incoming), outputStream(this.#outgoing)];
      }
      default:
        throw 'not-in-progress';
    }
  }

  subscribe() {
    return pollable(() => this.#state !== 'connecting');
  }

  /** @param {'receive' | 'send' | 'both'} how */
  shutdown(how) {
    const socket = this.#socket;
    if (!socket || !this.#outgoing) throw 'invalid-state';
    if (how !== 'receive') {
      this.#outgoing.shut = true;
      socket.end();
    }
    if (how !== 'send') socket.pause();
  }

  addressFamily() {
    return this.#family;
  }
  isListening() {
    return false;
  }

  [symbolDispose]() {
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

// Binding, listening and socket options: not offered to the component.
for (const name of [
  'startBind', 'finishBind', 'localAddress', 'remoteAddress', 'startListen', 'finishListen', 'accept', 'setListenBacklogSize',
  'keepAliveEnabled', 'setKeepAliveEnabled', 'keepAliveIdleTime', 'setKeepAliveIdleTime', 'keepAliveInterval',
  'setKeepAliveInterval', 'keepAliveCount', 'setKeepAliveCount', 'hopLimit', 'setHopLimit', 'receiveBufferSize',
  'setReceiveBufferSize', 'sendBufferSize', 'setSendBufferSize',
]) {
  Object.defineProperty(TcpSocket.prototype, name, {
    value() {
      throw 'not-supported';
    },
  });
}

export const tcp = { TcpSocket };

export const tcpCreateSocket = {
  /** @param {'ipv4' | 'ipv6'} family */
  createTcpSocket(family) {
    if (family !== 'ipv4' && family !== 'ipv6') throw 'not-supported';
    return new TcpSocket(family);
  },
};

// ---- wasi:sockets/udp ----

/**
 * Unread datagrams a socket keeps, by count and by payload bytes. An arrival beyond either is dropped, as a full
 * kernel receive buffer drops it: Node's dgram reads without pause, so this queue is the socket's real buffer.
 */
export const RECEIVE_QUEUE_DATAGRAMS = 1024;
export const RECEIVE_QUEUE_BYTES = 1 << 20;
/** Datagrams handed to Node and not yet passed to the kernel, beyond which `check-send` permits none. */
export const SEND_QUEUE_DATAGRAMS = 64;
/** The largest UDP payload: 65,535 less the UDP header (8) and, for IPv4, the IP header (20); IPv6's payload length leaves its header out. */
export const MAX_DATAGRAM_BYTES = { ipv4: 65_507, ipv6: 65_527 };
/** The hop limit a socket starts with: Node can set it (`setTTL`) but not read it, so it is set at bind and remembered. */
const DEFAULT_HOP_LIMIT = 64;

/** @typedef {{ tag: 'ipv4' | 'ipv6', val: { address: number[], port: number, flowInfo?: number, scopeId?: number } }} IpSocketAddress */
/** @typedef {{ data: Uint8Array, remoteAddress: IpSocketAddress }} IncomingDatagram */
/** @typedef {{ data: Uint8Array, remoteAddress?: IpSocketAddress }} OutgoingDatagram */

/**
 * A Node address and port as a WIT `ip-socket-address` (a link-local address loses its `%scope`: the component names no interfaces).
 * @param {string} text
 * @param {number} port
 * @returns {IpSocketAddress}
 */
function socketAddress(text, port) {
  const ip = ipTuple(text.replace(/%.*$/, ''));
  return ip.tag === 'ipv4' ? { tag: 'ipv4', val: { port, address: ip.val } } : { tag: 'ipv6', val: { port, flowInfo: 0, scopeId: 0, address: ip.val } };
}

/** @param {IpSocketAddress} a @param {IpSocketAddress} b */
function sameSocketAddress(a, b) {
  return a.tag === b.tag && a.val.port === b.val.port && a.val.address.every((n, i) => n === b.val.address[i]);
}

/** `::ffff:a.b.c.d`: IPv6 sockets here are IPv6-only (as on wasmtime), so such an address is refused, not dual-stacked. @param {IpSocketAddress} address */
function isIpv4Mapped(address) {
  const parts = address.val.address;
  return address.tag === 'ipv6' && parts.slice(0, 5).every((n) => n === 0) && parts[5] === 0xffff;
}

/** Whether `remote` can be a datagram's peer on a socket of `family` (WIT: else `invalid-argument`). @param {IpSocketAddress} remote @param {string} family */
function isValidPeer(remote, family) {
  return remote.tag === family && remote.val.port !== 0 && !remote.val.address.every((n) => n === 0) && !isIpv4Mapped(remote);
}

/** dgram resolves even an address literal through `lookup`; this one answers at once, so bind, connect and send take effect before they return. */
function literalLookup(/** @type {string} */ address, /** @type {unknown} */ _options, /** @type {(e: null, a: string, f: number) => void} */ done) {
  done(null, address, isIP(address));
}

/** A bound `node:dgram` socket as its WASI streams see it: what arrived, what is being sent, the peer, errors. */
class Datagrams {
  /** @type {IncomingDatagram[]} */
  queue = [];
  queuedBytes = 0;
  /** Sends handed to Node whose callback has not come. */
  inFlight = 0;
  /** The address `stream` connected to: only its datagrams are kept, and sends go there. @type {IpSocketAddress | undefined} */
  remote;
  /**
   * A connect the kernel refused at once (a broadcast address, say) is reported by Node a tick later: until then the
   * streams permit and deliver nothing, and their pollables wait; after, every call fails with `connectError`.
   */
  connecting = false;
  /** @type {string | undefined} */
  connectError;
  /** An error the system reported on receiving (an ICMP "port unreachable" to a connected socket) or sending: told once, as POSIX does. @type {string | undefined} */
  receiveError;
  /** @type {string | undefined} */
  sendError;
  closed = false;

  /** @param {import('node:dgram').Socket} socket @param {'ipv4' | 'ipv6'} family */
  constructor(socket, family) {
    this.socket = socket;
    this.family = family;
    socket.on('message', (data, from) => this.#arrived(data, socketAddress(from.address, from.port)));
  }

  /** @param {Buffer} data @param {IpSocketAddress} from */
  #arrived(data, from) {
    // The kernel filters a connected socket's arrivals already; checking again keeps the promise even for
    // datagrams queued before `stream` connected.
    if (this.remote && !sameSocketAddress(from, this.remote)) return;
    if (this.queue.length >= RECEIVE_QUEUE_DATAGRAMS || this.queuedBytes + data.length > RECEIVE_QUEUE_BYTES) return;
    this.queue.push({ data: new Uint8Array(data.buffer, data.byteOffset, data.length), remoteAddress: from });
    this.queuedBytes += data.length;
    wake();
  }

  /**
   * Associates the socket with `remote` (connects) or with nobody (disconnects), as `stream` does.
   * @param {IpSocketAddress | undefined} remote
   */
  associate(remote) {
    if (this.#isConnected()) this.socket.disconnect();
    this.remote = undefined;
    this.connectError = undefined;
    this.connecting = false;
    if (!remote) return;
    /** @param {Error | undefined} error Node passes a failure here (its types declare no argument) */
    const connected = (error) => {
      if (error) this.connectError = socketErrorCode(error);
      this.connecting = false;
      wake();
    };
    this.socket.connect(remote.val.port, ipText(remote), /** @type {() => void} */ (connected));
    this.connecting = !this.#isConnected();
    this.remote = remote;
    const kept = this.queue.filter((d) => sameSocketAddress(d.remoteAddress, remote));
    this.queuedBytes = kept.reduce((sum, d) => sum + d.data.length, 0);
    this.queue = kept;
  }

  /** Whether Node holds the socket connected (not so after a connect that failed). */
  #isConnected() {
    try {
      this.socket.remoteAddress();
      return true;
    } catch {
      return false;
    }
  }

  /** The stream-level failure, if any, that every call must report first. */
  #refusal() {
    if (this.closed) return 'invalid-state';
    return this.connectError;
  }

  /** @param {bigint} max */
  receive(max) {
    const refusal = this.#refusal();
    if (refusal) throw refusal;
    if (max === 0n || this.connecting) return [];
    if (this.queue.length === 0 && this.receiveError) {
      const error = this.receiveError;
      this.receiveError = undefined;
      throw error;
    }
    const taken = this.queue.splice(0, max < BigInt(this.queue.length) ? Number(max) : this.queue.length);
    for (const d of taken) this.queuedBytes -= d.data.length;
    return taken;
  }

  canReceive() {
    if (this.connecting) return this.closed;
    return this.queue.length > 0 || this.receiveError !== undefined || this.#refusal() !== undefined;
  }

  checkSend() {
    const refusal = this.#refusal();
    if (refusal) throw refusal;
    if (this.sendError) {
      const error = this.sendError;
      this.sendError = undefined;
      throw error;
    }
    return this.connecting ? 0 : Math.max(0, SEND_QUEUE_DATAGRAMS - this.inFlight);
  }

  canSend() {
    if (this.connecting) return this.closed;
    return this.inFlight < SEND_QUEUE_DATAGRAMS || this.sendError !== undefined || this.#refusal() !== undefined;
  }

  /**
   * Sends datagrams in order until one is refused; WIT: an error only when none was sent.
   * @param {OutgoingDatagram[]} datagrams
   * @param {number} permitted what the last `check-send` allowed
   */
  send(datagrams, permitted) {
    if (datagrams.length === 0) return 0n;
    if (datagrams.length > permitted) {
      throw new Error(`outgoing-datagram-stream.send: ${datagrams.length} datagrams, but check-send permitted ${permitted}`);
    }
    const refusal = this.#refusal();
    if (refusal) throw refusal;
    let sent = 0;
    for (const datagram of datagrams) {
      const refused = this.#sendRefusal(datagram);
      if (refused && sent === 0) throw refused;
      if (refused) break;
      this.#sendOne(datagram);
      sent++;
    }
    return BigInt(sent);
  }

  /** @param {OutgoingDatagram} datagram */
  #sendRefusal({ data, remoteAddress }) {
    // Connected: a destination, if named, must be the peer. Not connected: each datagram names a valid one.
    if (this.remote ? remoteAddress && !sameSocketAddress(remoteAddress, this.remote) : !remoteAddress || !isValidPeer(remoteAddress, this.family)) {
      return 'invalid-argument';
    }
    if (data.length > MAX_DATAGRAM_BYTES[this.family]) return 'datagram-too-large';
    return undefined;
  }

  /** @param {OutgoingDatagram} datagram */
  #sendOne({ data, remoteAddress }) {
    /** @param {Error | null} error */
    const done = (error) => {
      this.inFlight--;
      if (error) this.sendError = socketErrorCode(error);
      wake();
    };
    this.inFlight++;
    // A copy: Node may send after `send` returns, and the component's memory is not ours to keep.
    const bytes = Buffer.from(data);
    if (this.remote || !remoteAddress) this.socket.send(bytes, done);
    else this.socket.send(bytes, remoteAddress.val.port, ipText(remoteAddress), done);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.socket.close();
    wake();
  }
}

/** A `wasi:sockets/udp.incoming-datagram-stream`: receives what its socket has queued, never waiting. */
export class IncomingDatagramStream {
  #datagrams;
  #dropped;
  /** @param {Datagrams} datagrams @param {() => void} dropped */
  constructor(datagrams, dropped) {
    this.#datagrams = datagrams;
    this.#dropped = dropped;
  }
  /** @param {bigint} maxResults */
  receive(maxResults) {
    return this.#datagrams.receive(maxResults);
  }
  subscribe() {
    return pollable(() => this.#datagrams.canReceive());
  }
  [symbolDispose]() {
    this.#dropped();
  }
}

/** A `wasi:sockets/udp.outgoing-datagram-stream`: each `send` spends what the `check-send` before it permitted. */
export class OutgoingDatagramStream {
  #datagrams;
  #dropped;
  #permitted = 0;
  /** @param {Datagrams} datagrams @param {() => void} dropped */
  constructor(datagrams, dropped) {
    this.#datagrams = datagrams;
    this.#dropped = dropped;
  }
  checkSend() {
    this.#permitted = 0;
    this.#permitted = this.#datagrams.checkSend();
    return BigInt(this.#permitted);
  }
  /** @param {OutgoingDatagram[]} datagrams */
  send(datagrams) {
    const permitted = this.#permitted;
    this.#permitted = 0;
    return this.#datagrams.send(datagrams, permitted);
  }
  subscribe() {
    return pollable(() => this.#datagrams.canSend());
  }
  [symbolDispose]() {
    this.#dropped();
  }
}

/**
 * A `wasi:sockets/udp.udp-socket` on `node:dgram`. It binds only to an ephemeral port (port 0), as TCP here never
 * binds for the component: a fixed port would let it listen. Node's dgram socket has no descriptor before it is
 * bound, so buffer sizes and the hop limit asked for before bind are remembered and applied at bind.
 */
export class UdpSocket {
  #family;
  /** @type {'unbound' | 'binding' | 'bound' | 'closed'} */
  #state = 'unbound';
  /** @type {Datagrams | undefined} */
  #datagrams;
  /** Whether the bind has completed (`listening`), and why it failed if it did. */
  #listening = false;
  /** @type {string | undefined} */
  #bindError;
  /** Streams of the last `stream` the component still holds: WIT lets a host trap on `stream` while any is. */
  #liveStreams = 0;
  #hopLimit = DEFAULT_HOP_LIMIT;
  /** @type {number | undefined} */
  #receiveBufferSize;
  /** @type {number | undefined} */
  #sendBufferSize;

  /** @param {'ipv4' | 'ipv6'} family */
  constructor(family) {
    this.#family = family;
  }

  /**
   * @param {unknown} _network
   * @param {IpSocketAddress} local
   */
  startBind(_network, local) {
    if (this.#state !== 'unbound') throw 'invalid-state';
    if (local.tag !== this.#family || isIpv4Mapped(local)) throw 'invalid-argument';
    if (local.val.port !== 0) throw 'access-denied';
    const socket = createSocket({ type: this.#family === 'ipv4' ? 'udp4' : 'udp6', ipv6Only: this.#family === 'ipv6', lookup: literalLookup });
    this.#datagrams = new Datagrams(socket, this.#family);
    this.#state = 'binding';
    socket.on('error', (error) => this.#failed(error));
    socket.once('listening', () => {
      this.#listening = true;
      wake();
    });
    socket.bind({ port: 0, address: ipText(local), exclusive: true });
  }

  /** An error event: before `listening`, the bind's failure; after, a receive error (sends and connects have callbacks). @param {Error} error */
  #failed(error) {
    const code = socketErrorCode(error);
    if (this.#listening) {
      if (this.#datagrams) this.#datagrams.receiveError = code;
    } else {
      this.#bindError = code;
    }
    wake();
  }

  finishBind() {
    if (this.#state !== 'binding') throw 'not-in-progress';
    const datagrams = /** @type {Datagrams} */ (this.#datagrams);
    if (this.#bindError) {
      this.#state = 'closed';
      datagrams.close();
      throw this.#bindError;
    }
    if (!this.#listening) throw 'would-block';
    this.#state = 'bound';
    const { socket } = datagrams;
    socket.setTTL(this.#hopLimit);
    if (this.#receiveBufferSize !== undefined) socket.setRecvBufferSize(this.#receiveBufferSize);
    if (this.#sendBufferSize !== undefined) socket.setSendBufferSize(this.#sendBufferSize);
  }

  /**
   * @param {IpSocketAddress | undefined} remote
   * @returns {[IncomingDatagramStream, OutgoingDatagramStream]}
   */
  stream(remote) {
    if (this.#state !== 'bound') throw 'invalid-state';
    if (remote && !isValidPeer(remote, this.#family)) throw 'invalid-argument';
    if (this.#liveStreams > 0) {
      throw new Error('udp-socket.stream: the streams of the previous call must be dropped before it is called again');
    }
    const datagrams = /** @type {Datagrams} */ (this.#datagrams);
    try {
      datagrams.associate(remote);
    } catch (error) {
      throw socketErrorCode(error);
    }
    this.#liveStreams = 2;
    const dropped = () => {
      this.#liveStreams--;
    };
    return [new IncomingDatagramStream(datagrams, dropped), new OutgoingDatagramStream(datagrams, dropped)];
  }

  localAddress() {
    if (this.#state !== 'bound') throw 'invalid-state';
    const { address, port } = /** @type {Datagrams} */ (this.#datagrams).socket.address();
    return socketAddress(address, port);
  }

  remoteAddress() {
    const remote = this.#datagrams?.remote;
    if (this.#state !== 'bound' || !remote || this.#datagrams?.connecting || this.#datagrams?.connectError) throw 'invalid-state';
    return remote;
  }

  addressFamily() {
    return this.#family;
  }

  unicastHopLimit() {
    return this.#hopLimit;
  }

  /** @param {number} value */
  setUnicastHopLimit(value) {
    if (value < 1) throw 'invalid-argument';
    this.#onBoundSocket((socket) => socket.setTTL(value));
    this.#hopLimit = value;
  }

  receiveBufferSize() {
    return this.#bufferSize(this.#receiveBufferSize, (socket) => socket.getRecvBufferSize());
  }

  /** @param {bigint} value */
  setReceiveBufferSize(value) {
    this.#receiveBufferSize = this.#setBufferSize(value, (socket, size) => socket.setRecvBufferSize(size));
  }

  sendBufferSize() {
    return this.#bufferSize(this.#sendBufferSize, (socket) => socket.getSendBufferSize());
  }

  /** @param {bigint} value */
  setSendBufferSize(value) {
    this.#sendBufferSize = this.#setBufferSize(value, (socket, size) => socket.setSendBufferSize(size));
  }

  /**
   * The kernel's size once bound (Linux reports twice what was asked: its bookkeeping share); before, what was
   * asked for, and `invalid-state` when nothing was (without a descriptor, Node cannot read the default).
   * @param {number | undefined} asked
   * @param {(socket: import('node:dgram').Socket) => number} read
   */
  #bufferSize(asked, read) {
    if (this.#state === 'bound') return BigInt(/** @type {number} */ (this.#onBoundSocket(read)));
    if (asked === undefined) throw 'invalid-state';
    return BigInt(asked);
  }

  /**
   * WIT: 0 is `invalid-argument`; anything else may be clamped (here to what Node takes, a signed 32-bit size).
   * @param {bigint} value
   * @param {(socket: import('node:dgram').Socket, size: number) => void} apply
   */
  #setBufferSize(value, apply) {
    if (value === 0n) throw 'invalid-argument';
    const size = value > 0x7fff_ffffn ? 0x7fff_ffff : Number(value);
    this.#onBoundSocket((socket) => apply(socket, size));
    return size;
  }

  /**
   * Runs `use` on the dgram socket when it is bound (its options exist only then), mapping Node's error to an error code.
   * @template T
   * @param {(socket: import('node:dgram').Socket) => T} use
   * @returns {T | undefined}
   */
  #onBoundSocket(use) {
    if (this.#state !== 'bound') return undefined;
    try {
      return use(/** @type {Datagrams} */ (this.#datagrams).socket);
    } catch (error) {
      // Node wraps a buffer-size errno in ERR_SOCKET_BUFFER_SIZE and keeps the errno in `info.code`.
      throw socketErrorCode(/** @type {{ info?: { code?: string } }} */ (error).info ?? error);
    }
  }

  subscribe() {
    return pollable(() => this.#state !== 'binding' || this.#listening || this.#bindError !== undefined);
  }

  [symbolDispose]() {
    this.#state = 'closed';
    this.#datagrams?.close();
  }
}

export const udp = { UdpSocket, IncomingDatagramStream, OutgoingDatagramStream };

export const udpCreateSocket = {
  /** @param {'ipv4' | 'ipv6'} family */
  createUdpSocket(family) {
    if (family !== 'ipv4' && family !== 'ipv6') throw 'not-supported';
    return new UdpSocket(family);
  },
};

// ---- wasi:sockets/instance-network and ip-name-lookup ----

export const instanceNetwork = {
  instanceNetwork: () => hostResource(network.Network.prototype, { [symbolDispose]() {} }),
};

/** DNS errors, as preview2-shim maps them. */
const LOOKUP_ERROR_CODES = /** @type {Record<string, string>} */ ({
  ENODATA: 'name-unresolvable',
  EBADFAMILY: 'name-unresolvable',
  ENONAME: 'name-unresolvable',
  ENOTFOUND: 'name-unresolvable',
  ETIMEOUT: 'temporary-resolver-failure',
  EREFUSED: 'temporary-resolver-failure',
  ECONNREFUSED: 'temporary-resolver-failure',
  ESERVFAIL: 'temporary-resolver-failure',
  ENOMEM: 'temporary-resolver-failure',
  ECANCELLED: 'temporary-resolver-failure',
});

/** @param {string} name */
function isLookupName(name) {
  try {
    const url = new URL(`https://${name}`);
    return !url.port && !url.username && !url.password && url.pathname === '/' && !url.search && !url.hash;
  } catch {
    return false;
  }
}

export class ResolveAddressStream {
  /** @type {Array<{ tag: string, val: number[] }> | undefined} */
  #addresses;
  /** @type {string | undefined} */
  #error;
  #next = 0;
  /** @param {string} name */
  constructor(name) {
    const literal = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
    if (isIP(literal)) {
      this.#addresses = [ipTuple(literal)];
      return;
    }
    if (!isLookupName(name)) throw 'invalid-argument';
    lookup(name, { all: true, order: 'verbatim' }).then(
      (found) => {
        this.#addresses = found.map(({ address }) => ipTuple(address));
        wake();
      },
      (/** @type {{ code?: string }} */ error) => {
        this.#error = LOOKUP_ERROR_CODES[error.code ?? ''] ?? 'permanent-resolver-failure';
        wake();
      },
    );
  }
  resolveNextAddress() {
    if (this.#error) throw this.#error;
    if (!this.#addresses) throw 'would-block';
    return this.#addresses[this.#next++];
  }
  subscribe() {
    return pollable(() => this.#addresses !== undefined || this.#error !== undefined);
  }
  [symbolDispose]() {}
}

export const ipNameLookup = {
  ResolveAddressStream,
  /**
   * @param {unknown} _network
   * @param {string} name
   */
  resolveAddresses: (_network, name) => new ResolveAddressStream(name),
};
