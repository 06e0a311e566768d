// TLS failures: what the TLS layer reports (the engine's certificate or handshake problem, the deadline, an
// injection before STARTTLS) and the one mapping of each to the service error a client sees.

import type { CertificateProblem, HandshakeProblem, SetupError } from 'ai-agent-sockets:tls/client@0.1.0';
import { ServiceError, shown } from '../../core/errors.js';
import type { Reply } from '../dialogue.js';
import { TlsEngineFailure } from './engine.js';

/** Why TLS failed. */
export type TlsFailure =
  | { kind: 'certificate'; problem: CertificateProblem }
  | { kind: 'handshake'; problem: HandshakeProblem }
  /** The peer closed the connection before the handshake finished. */
  | { kind: 'closed' }
  /** Bytes arrived after the last plaintext reply and before the handshake began (STARTTLS injection). */
  | { kind: 'injection'; bytes: number }
  /** The request's deadline passed during the handshake. */
  | { kind: 'timeout' }
  /** The engine refused the session's parameters. */
  | { kind: 'setup'; problem: SetupError };

/** A TLS failure on one connection; `established` says whether it came after the handshake. */
export class TlsFault extends Error {
  override readonly name = 'TlsFault';
  constructor(
    readonly failure: TlsFailure,
    readonly established = false,
  ) {
    super(`tls: ${failure.kind}`);
  }
  /** Replies of the steps that completed on the connection before the fault. */
  replies: Reply[] = [];
}

/** The engine's `tls-error`, thrown by one of its calls, as a fault; undefined for any other throw. */
export function tlsFaultOf(error: unknown, established: boolean): TlsFault | undefined {
  if (!(error instanceof TlsEngineFailure)) return undefined;
  const reported = error.error;
  return new TlsFault(reported.tag === 'certificate' ? { kind: 'certificate', problem: reported.val } : { kind: 'handshake', problem: reported.val }, established);
}

function certificateProblem(problem: CertificateProblem): string {
  switch (problem.tag) {
    case 'unknown-issuer':
      return 'it is not signed by a trusted root (unknown issuer; a private CA can be added with TLS_CA_CERTS)';
    case 'self-signed':
      return 'it is self-signed and not a trusted root (add it to TLS_CA_CERTS to trust it)';
    case 'not-valid-for-name':
      return 'it is not valid for that name (name mismatch: give the name it is issued for as server_name)';
    case 'expired':
      return 'it has expired';
    case 'not-yet-valid':
      return 'it is not valid yet';
    case 'revoked':
      return 'it has been revoked';
    case 'other':
      return `it was rejected (${problem.val})`;
  }
}

function handshakeProblem(problem: HandshakeProblem): string {
  switch (problem.tag) {
    case 'peer-alert':
      return `the peer sent the alert ${problem.val}`;
    case 'no-common-version':
      return 'the peer offers neither TLS 1.2 nor TLS 1.3';
    case 'no-common-parameters':
      return `the peer and this client have ${problem.val}`;
    case 'not-tls':
      return `the peer did not answer with TLS (${problem.val})`;
    case 'other':
      return problem.val;
  }
}

/**
 * Turns a TLS fault into the service error a client sees. `at` is the target (and address) as shown in
 * every network error; `serverName` the name the certificate was checked against.
 */
export function fromTlsFault(fault: TlsFault, at: string, serverName: string): ServiceError {
  const name = shown(serverName, 80);
  const fail = (code: 'tls-certificate-invalid' | 'tls-handshake-failed' | 'tls-handshake-timeout' | 'config-invalid', message: string) =>
    new ServiceError(code, message, { cause: fault });
  const failure = fault.failure;
  const what = fault.established ? `the TLS session with ${at} (server name ${name})` : `the TLS handshake with ${at} (server name ${name})`;
  switch (failure.kind) {
    case 'certificate':
      return fail('tls-certificate-invalid', `the certificate of ${at} was checked for server name ${name}: ${certificateProblem(failure.problem)}`);
    case 'handshake':
      return fail('tls-handshake-failed', `${what} failed: ${handshakeProblem(failure.problem)}`);
    case 'closed':
      return fail('tls-handshake-failed', `${what} failed: the peer closed the connection (is it a TLS port?)`);
    case 'injection':
      return fail('tls-handshake-failed',
        `${what} was not started: the peer sent ${failure.bytes} byte${failure.bytes === 1 ? '' : 's'} after its last plaintext reply and before the handshake; bytes sent before TLS are never read as if TLS protected them (STARTTLS injection, CVE-2011-0411)`,
      );
    case 'timeout':
      return fail('tls-handshake-timeout', `${what} did not finish before the deadline (REQUEST_DEADLINE_MS, or timeout_ms)`);
    case 'setup':
      return failure.problem.tag === 'invalid-roots'
        ? fail('config-invalid', `setting TLS_CA_CERTS is invalid: ${failure.problem.val}`)
        : fail('tls-handshake-failed', `server name ${name} cannot be used for TLS: ${failure.problem.val}`);
  }
}
