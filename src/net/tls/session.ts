// One engine session, held safely: a call after release is an error instead of a trap (the component model
// traps on a dropped handle), and each engine failure becomes a TlsFault.

import type { TlsInfo } from '../dialogue.js';
import { type EngineSession, type Status, type TlsEngine, TlsSetupRefused } from './engine.js';
import { TlsFault, tlsFaultOf } from './faults.js';

export class TlsSession implements Disposable {
  #raw: EngineSession | undefined;
  #established = false;

  private constructor(raw: EngineSession) {
    this.#raw = raw;
  }

  /** A session on `engine` for `serverName`; throws TlsFault `setup` when the engine refuses the name or the roots. */
  static open(engine: TlsEngine, serverName: string, extraRootsPem: string): TlsSession {
    try {
      return new TlsSession(engine.openSession(serverName, extraRootsPem));
    } catch (error) {
      if (error instanceof TlsSetupRefused) throw new TlsFault({ kind: 'setup', problem: error.problem });
      throw error;
    }
  }

  /** Runs `call` on the live session; engine failures are thrown as TlsFault. */
  #call<T>(call: (session: EngineSession) => T): T {
    const raw = this.#raw;
    if (!raw) throw new Error('TLS session used after it was released');
    try {
      return call(raw);
    } catch (error) {
      throw tlsFaultOf(error, this.#established) ?? error;
    }
  }

  feed(ciphertext: Uint8Array): [number, Status] {
    const [taken, status] = this.#call((s) => s.feed(ciphertext));
    if (status.state !== 'handshaking') this.#established = true;
    return [taken, status];
  }

  takeOutgoing(maxBytes: number): Uint8Array {
    return this.#call((s) => s.takeOutgoing(maxBytes));
  }

  write(plaintext: Uint8Array): number {
    return this.#call((s) => s.write(plaintext));
  }

  read(maxBytes: number): Uint8Array {
    return this.#call((s) => s.read(maxBytes));
  }

  status(): Status {
    return this.#call((s) => s.status());
  }

  /** Queues close_notify. */
  close(): void {
    this.#call((s) => s.close());
  }

  /** What the handshake agreed (call once it is done). */
  info(): TlsInfo {
    return this.#call((s) => ({ version: s.protocolVersion() ?? 'unknown', cipher: s.cipherSuite() ?? 'unknown' }));
  }

  get released(): boolean {
    return this.#raw === undefined;
  }

  [Symbol.dispose](): void {
    const raw = this.#raw;
    this.#raw = undefined;
    raw?.[Symbol.dispose]();
  }
}
