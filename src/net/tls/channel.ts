// TLS as a layer over one connection's byte stream: the handshake, then plaintext in and out through the
// engine. The socket module passes its stream in, so the read loop (reply-reader.ts) reads plaintext with the
// same deadlines and limits, and unit tests drive it on a virtual clock.

import { SocketFault, streamFault } from '../faults.js';
import type { TlsInfo } from '../dialogue.js';
import { type PollHost, type ReadStream, StreamClosed } from '../streams.js';
import type { Status } from './engine.js';
import { TlsFault } from './faults.js';
import type { TlsSession } from './session.js';

/** Largest ciphertext read from the socket, and largest ciphertext taken from the engine, per call. */
const CIPHERTEXT_CHUNK_BYTES = 65_536;
/**
 * Largest ciphertext handed to the engine per call: one TLS record at most (16 KiB of plaintext plus the
 * largest expansion and header). The engine takes about one record's plaintext before it wants a read, so
 * handing it more would copy the rest into it again and again.
 */
const FEED_BYTES = 16_384 + 2_048 + 5;
/** Largest plaintext handed to the engine per call (its send buffer takes 64 KiB). */
const PLAINTEXT_CHUNK_BYTES = 65_536;

/** The connection under TLS: its input stream (non-blocking reads, a pollable) and a blocking send bound by the deadline. */
export interface CipherStream<P extends Disposable> extends ReadStream<P> {
  send(ciphertext: Uint8Array): void;
}

export class TlsChannel<P extends Disposable> implements ReadStream<P> {
  /** Ciphertext read from the socket that the engine has not taken yet (it takes less while plaintext waits). */
  #unfed: Uint8Array = new Uint8Array(0);
  #status: Status;
  /** The socket's input ended (the peer closed, with or without close_notify). */
  #inputEnded = false;

  constructor(
    private readonly session: TlsSession,
    private readonly socket: CipherStream<P>,
  ) {
    this.#status = session.status();
  }

  /**
   * Sends the ClientHello and runs the handshake to its end, waiting on `ready` (the socket's pollable) and
   * `deadline`. Throws TlsFault: the engine's problem, `closed`, or `timeout` when the deadline fires first.
   */
  handshake(host: PollHost<P>, ready: P, deadline: P): TlsInfo {
    this.#flush();
    while (this.#status.state === 'handshaking') {
      const fired = host.poll([ready, deadline]);
      if (!fired.includes(0)) throw new TlsFault({ kind: 'timeout' });
      let data: Uint8Array;
      try {
        data = this.socket.read(BigInt(CIPHERTEXT_CHUNK_BYTES));
      } catch (error) {
        const fault = streamFault('read', error);
        throw fault === 'closed' ? new TlsFault({ kind: 'closed' }) : fault;
      }
      if (data.length > 0) this.#feed(data);
    }
    this.#flush();
    return this.session.info();
  }

  /** Hands `data` to the engine, keeps what it did not take, and sends what it has to send (handshake, alerts). */
  #feed(data: Uint8Array): void {
    const [taken, status] = this.session.feed(data.length > FEED_BYTES ? data.subarray(0, FEED_BYTES) : data);
    this.#status = status;
    this.#unfed = data.subarray(taken);
    if (status.outgoingBytes > 0) this.#flush();
  }

  /** Sends every byte of ciphertext the engine has waiting. */
  #flush(): void {
    for (;;) {
      const out = this.session.takeOutgoing(CIPHERTEXT_CHUNK_BYTES);
      if (out.length === 0) return;
      this.socket.send(out);
    }
  }

  /** Plaintext: what the engine holds, else what the next ciphertext decrypts to (possibly nothing yet). */
  read(len: bigint): Uint8Array {
    const max = Number(len > BigInt(CIPHERTEXT_CHUNK_BYTES) ? BigInt(CIPHERTEXT_CHUNK_BYTES) : len);
    if (this.#status.plaintextBytes === 0) {
      if (this.#unfed.length === 0 && !this.#inputEnded) {
        try {
          const data = this.socket.read(BigInt(CIPHERTEXT_CHUNK_BYTES));
          if (data.length === 0) return data;
          this.#feed(data);
        } catch (error) {
          if (!(error instanceof StreamClosed)) throw error;
          this.#inputEnded = true;
        }
      } else if (this.#unfed.length > 0) {
        const before = this.#unfed.length;
        this.#feed(this.#unfed);
        // The engine takes ciphertext whenever no plaintext waits: taking none here would loop forever.
        if (this.#unfed.length === before && this.#status.plaintextBytes === 0) {
          throw new TlsFault({ kind: 'handshake', problem: { tag: 'other', val: 'the TLS engine took no data' } }, true);
        }
      }
    }
    if (this.#status.plaintextBytes === 0) {
      // Nothing more will come after close_notify, or once the socket ended with nothing left to decrypt.
      if (this.#status.state === 'peer-closed' || (this.#inputEnded && this.#unfed.length === 0)) throw new StreamClosed();
      return new Uint8Array(0);
    }
    const plaintext = this.session.read(Math.min(max, this.#status.plaintextBytes));
    this.#status = { ...this.#status, plaintextBytes: this.#status.plaintextBytes - plaintext.length };
    return plaintext;
  }

  /** The socket's pollable: ciphertext arriving is what can bring plaintext. */
  subscribe(): P {
    return this.socket.subscribe();
  }

  /** Whether a read can return plaintext (or take in ciphertext already received) without waiting on the socket. */
  buffered(): boolean {
    return this.#status.plaintextBytes > 0 || this.#unfed.length > 0 || (this.#inputEnded && this.#status.state !== 'handshaking');
  }

  /** Encrypts and sends all of `plaintext`. */
  write(plaintext: Uint8Array): void {
    let offset = 0;
    while (offset < plaintext.length) {
      const taken = this.session.write(plaintext.subarray(offset, offset + PLAINTEXT_CHUNK_BYTES));
      this.#flush();
      // The engine's buffer is empty once flushed: taking nothing now means it will not take more.
      if (taken === 0) throw new SocketFault('write', 'stream-failed', 'the TLS engine took no plaintext');
      offset += taken;
    }
  }

  /** Sends close_notify, as a courtesy: the exchange is over whatever happens to it. */
  close(): void {
    try {
      this.session.close();
      this.#flush();
    } catch {
      // The peer may have gone already; nothing depends on the alert arriving.
    }
  }
}
