// The only module that calls the TLS engine's import (ai-agent-sockets:tls/client, rustls composed into the
// component): the engine as src/net/tls/ takes it, its WIT errors translated into the project's own.

import { checkRoots, openSession, type Session, type SetupError, type TlsError } from 'ai-agent-sockets:tls/client@0.1.0';
import { type EngineSession, RootsUnreadable, type TlsEngine, TlsEngineFailure, TlsSetupRefused } from '../net/tls/engine.js';
import { wasiPayload } from './payload.js';

const isTlsError = (value: unknown): value is TlsError =>
  typeof value === 'object' && value !== null && 'tag' in value && (value.tag === 'certificate' || value.tag === 'handshake') && 'val' in value;

const isSetupError = (value: unknown): value is SetupError =>
  typeof value === 'object' && value !== null && 'tag' in value && (value.tag === 'invalid-roots' || value.tag === 'invalid-server-name');

/** Runs a session call, throwing the engine's `tls-error` as `TlsEngineFailure` (anything else unchanged). */
function sessionCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    const payload = wasiPayload(error);
    throw isTlsError(payload) ? new TlsEngineFailure(payload) : error;
  }
}

/** The session resource with each call's error translated. */
function engineSession(session: Session): EngineSession {
  return {
    feed: (ciphertext) => sessionCall(() => session.feed(ciphertext)),
    takeOutgoing: (maxBytes) => sessionCall(() => session.takeOutgoing(maxBytes)),
    write: (plaintext) => sessionCall(() => session.write(plaintext)),
    read: (maxBytes) => sessionCall(() => session.read(maxBytes)),
    status: () => sessionCall(() => session.status()),
    close: () => sessionCall(() => session.close()),
    protocolVersion: () => sessionCall(() => session.protocolVersion()),
    cipherSuite: () => sessionCall(() => session.cipherSuite()),
    [Symbol.dispose]: () => session[Symbol.dispose](),
  };
}

/** rustls, composed into this component (tls-engine/). */
export const wasiTls: TlsEngine = {
  openSession(serverName, extraRootsPem) {
    let session: Session;
    try {
      session = openSession(serverName, extraRootsPem);
    } catch (error) {
      const payload = wasiPayload(error);
      throw isSetupError(payload) ? new TlsSetupRefused(payload) : error;
    }
    return engineSession(session);
  },
  checkRoots(pem) {
    try {
      return checkRoots(pem);
    } catch (error) {
      const payload = wasiPayload(error);
      throw typeof payload === 'string' ? new RootsUnreadable(payload) : error;
    }
  },
};
