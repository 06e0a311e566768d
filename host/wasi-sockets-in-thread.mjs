// wasi:sockets (TCP and name lookup), wasi:io/poll and the monotonic clock on the pool worker's own thread, for
// Node with JSPI (`WebAssembly.Suspending`, Node 24+). preview2-shim runs every socket, stream and poll call as
// a synchronous round trip to its I/O thread; here the sockets are the worker's own `node:net` sockets, every
// call except `poll` and `pollable.block` answers at once from what the socket has delivered, and those two
// suspend the component (jco's JSPI mode) until an event makes a pollable ready.
//
// Streams, pollables and errors are instances of preview2-shim's classes, made by host/host-resource.mjs.

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

/** The `wasi:sockets/network.error-code` of a Node socket error, as preview2-shim maps them. */
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
