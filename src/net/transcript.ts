// What one dialogue did, as `dial` returns it or its failure carries it, for whoever keeps a record of it (the
// audit log): where it was asked to go, where it went, how much went each way and how it ended. Never the bytes.

import { type ErrorCode, ServiceError } from '../core/errors.js';
import type { ReplyEnd } from './dialogue.js';
import type { DatagramEnd } from './datagrams.js';

/** The connection a dialogue opened, and what went over it. */
export interface ConnectionRecord {
  /** The address connected to, as address:port. */
  readonly address: string;
  /** Bytes written (plaintext over TLS) and bytes received. */
  readonly sent: number;
  readonly received: number;
  /** How each read ended, step by step, up to the last one that completed. */
  readonly ends: readonly (ReplyEnd | DatagramEnd)[];
  /** Where TLS was agreed on a dialogue that completed: the protocol version and the server name sent. */
  readonly tls?: { readonly version: string; readonly serverName: string };
  /** UDP: the datagrams sent and received, and those dropped for coming from another address (absent on TCP). */
  readonly datagrams?: { readonly sent: number; readonly received: number; readonly ignored: number };
}

export interface Transcript {
  /** host:port as the caller asked for it. */
  readonly target: string;
  /** Every address a connection was tried to, in order. */
  readonly tried: readonly string[];
  /** `udp` for a dialogue of datagrams; absent for TCP. */
  readonly protocol?: 'udp';
  /** The names of the secrets the steps send, each once, in order (absent when they send none). */
  readonly secrets?: readonly string[];
  /** Absent when no connection opened. */
  readonly connection?: ConnectionRecord;
  /** Whether a reply had a secret's bytes replaced by its marker (a peer echoed one, or a caller probed for it). */
  readonly redacted?: true;
  /** The error code that ended the dialogue, when it failed. */
  readonly code?: ErrorCode;
}

/** A dialogue's failure: the service error a client sees, carrying the transcript of what ran before it. */
class DialFailure extends ServiceError {
  constructor(
    error: ServiceError,
    readonly transcript: Transcript,
  ) {
    super(error.code, error.message, { cause: error.cause, headers: { ...error.headers }, extra: { ...error.extra } });
  }

  /** An amended copy keeps the transcript: the error the client sees says more, the dialogue did not change. */
  override amended(change: Parameters<ServiceError['amended']>[0]): ServiceError {
    return new DialFailure(super.amended(change), this.transcript);
  }
}

/** `error` as a dialogue's failure, carrying `transcript` with the error's code. */
export function failedWith(error: ServiceError, transcript: Transcript): ServiceError {
  return new DialFailure(error, { ...transcript, code: error.code });
}

/** The transcript a dialogue's failure carries; undefined for any other error (one thrown before a dialogue began). */
export function transcriptOf(error: unknown): Transcript | undefined {
  return error instanceof DialFailure ? error.transcript : undefined;
}
