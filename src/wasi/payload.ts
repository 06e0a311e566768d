// What an imported WASI function threw, translated once into the project's own values: jco hands a WIT
// `result`'s error over as an Error whose `payload` is the WIT error value, and nothing outside src/wasi/ reads it.

import type { StreamError } from 'wasi:io/streams@0.2.12';
import { SocketFault, type Stage, type WasiSocketErrorCode } from '../net/faults.js';
import { StreamClosed, StreamFailed } from '../net/streams.js';

/**
 * Its `result` error arrives as an error whose `payload` is the WIT error value (`'would-block'`,
 * `{ tag: 'closed' }`, a Spin variables error). undefined for any other throw.
 */
export function wasiPayload(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'payload' in error ? error.payload : undefined;
}

/** A failed WASI socket call as a fault of `stage`: its error code, or `unknown` when it threw something else. */
export function socketFaultOf(stage: Stage, error: unknown): SocketFault {
  const code = wasiPayload(error);
  if (typeof code === 'string') return new SocketFault(stage, code as WasiSocketErrorCode);
  return new SocketFault(stage, 'unknown', String(error));
}

/** A `wasi:io/streams` error as the stream contract's: `StreamClosed`, `StreamFailed`, or what was thrown, unchanged. */
export function streamErrorOf(error: unknown): unknown {
  const payload = wasiPayload(error) as StreamError | undefined;
  if (payload?.tag === 'closed') return new StreamClosed();
  // Optional calls: a detail for the message, never worth a second fault if a host's error value lacks them.
  if (payload?.tag === 'last-operation-failed') return new StreamFailed(payload.val?.toDebugString?.());
  return error;
}

/** Runs `call`, throwing a stream error as the stream contract's (`streamErrorOf`). */
export function streamCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw streamErrorOf(error);
  }
}
