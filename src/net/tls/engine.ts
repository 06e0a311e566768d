// The TLS engine as the network layer sees it: the WIT interface's shape (ai-agent-sockets:tls/client), passed
// in by the component's wiring (src/wasi/tls.ts) or by a test, so nothing here calls the import itself.

import type { Session, Status } from 'ai-agent-sockets:tls/client@0.1.0';

export type { Status };

/** One engine session: the WIT resource's methods (see wit/deps/tls-0.1.0/client.wit). */
export type EngineSession = Pick<Session, 'feed' | 'takeOutgoing' | 'write' | 'read' | 'status' | 'close' | 'protocolVersion' | 'cipherSuite'> & Disposable;

/** rustls behind the interface: sessions, and the reading of the operator's PEM roots. */
export interface TlsEngine {
  /** A client session for `serverName` trusting Mozilla's roots plus `extraRootsPem`; throws the WIT `setup-error`. */
  openSession(serverName: string, extraRootsPem: string): EngineSession;
  /** How many certificates `pem` holds; throws a description when it cannot be read. */
  checkRoots(pem: string): number;
}
