// The TLS engine as the network layer sees it: the WIT interface's shape (ai-agent-sockets:tls/client), passed
// in by the component's wiring (src/wasi/tls.ts) or by a test, so nothing here calls the import itself. Its
// failures arrive as the project's own errors below: src/wasi/tls.ts translates the WIT error values once.

import type { Session, SetupError, Status, TlsError } from 'ai-agent-sockets:tls/client@0.1.0';

export type { Status };

/** One engine session: the WIT resource's methods (see wit/deps/tls-0.1.0/client.wit); each throws `TlsEngineFailure`. */
export type EngineSession = Pick<Session, 'feed' | 'takeOutgoing' | 'write' | 'read' | 'status' | 'close' | 'protocolVersion' | 'cipherSuite'> & Disposable;

/** rustls behind the interface: sessions, and the reading of the operator's PEM roots. */
export interface TlsEngine {
  /** A client session for `serverName` trusting Mozilla's roots plus `extraRootsPem`; throws `TlsSetupRefused`. */
  openSession(serverName: string, extraRootsPem: string): EngineSession;
  /** How many certificates `pem` holds; throws `RootsUnreadable` when it cannot be read. */
  checkRoots(pem: string): number;
}

/** The engine's `tls-error`: the certificate, or the handshake (or the session after it), failed. */
export class TlsEngineFailure extends Error {
  override readonly name = 'TlsEngineFailure';
  constructor(readonly error: TlsError) {
    super(`tls: ${error.tag}`);
  }
}

/** The engine's `setup-error`: it refused the server name or the roots a session was opened with. */
export class TlsSetupRefused extends Error {
  override readonly name = 'TlsSetupRefused';
  constructor(readonly problem: SetupError) {
    super(`tls setup: ${problem.tag}`);
  }
}

/** What `check-roots` said is wrong with the operator's PEM, in words. */
export class RootsUnreadable extends Error {
  override readonly name = 'RootsUnreadable';
  constructor(readonly problem: string) {
    super(problem);
  }
}
