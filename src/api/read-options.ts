// Where a read ends and how long a request may take, as a caller asks for them: one validation for the
// query parameters of /tcp/send and the steps of /tcp/exchange, bounded by the server's own settings.

import { ServiceError, shown } from '../core/errors.js';
import type { Limits, ReadEnd } from '../net/network.js';

/** The longest `until` sequence: enough for any protocol terminator, short enough to search cheaply. */
export const MAX_UNTIL_BYTES = 256;

/** How a caller asked a read to end; at most one of the three. */
export interface ReadOptions {
  until?: Uint8Array;
  bytes?: number;
  idleMs?: number;
}

const invalidParameter = (message: string) => new ServiceError('invalid-parameter', message);

/**
 * The read end for `options`: `until`, `bytes`, or the quiet gap (`idle_ms`, at most REPLY_IDLE_MS;
 * the setting when not given). `prefix` places the names in messages (`steps/2/` in a dialogue).
 */
export function readEndOf(options: ReadOptions, limits: Limits, prefix = ''): ReadEnd {
  const given = (['until', 'bytes', 'idleMs'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1) {
    throw invalidParameter(`give at most one of ${prefix}until, ${prefix}bytes and ${prefix}idle_ms: each ends the read a different way (with until or bytes, the quiet gap does not end it)`);
  }
  if (options.until !== undefined) {
    const length = options.until.length;
    if (length < 1 || length > MAX_UNTIL_BYTES) throw invalidParameter(`${prefix}until is ${length} bytes; give 1 to ${MAX_UNTIL_BYTES} bytes`);
    return { until: options.until };
  }
  if (options.bytes !== undefined) {
    return { bytes: bounded(options.bytes, `${prefix}bytes`, limits.maxReplyBytes, 'MAX_REPLY_BYTES', 'bytes') };
  }
  return { idleMs: options.idleMs === undefined ? limits.replyIdleMs : bounded(options.idleMs, `${prefix}idle_ms`, limits.replyIdleMs, 'REPLY_IDLE_MS', 'ms') };
}

/** The limits of one request: `timeout_ms` shortens the deadline (at most REQUEST_DEADLINE_MS). */
export function limitsWithTimeout(limits: Limits, timeoutMs: number | undefined): Limits {
  if (timeoutMs === undefined) return limits;
  return { ...limits, requestDeadlineMs: bounded(timeoutMs, 'timeout_ms', limits.requestDeadlineMs, 'REQUEST_DEADLINE_MS', 'ms') };
}

function bounded(value: number, name: string, max: number, setting: string, unit: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw invalidParameter(`${name} is ${value}; give a whole number of ${unit} from 1 to ${max} (the server's ${setting})`);
  }
  return value;
}

/** A whole number from a query parameter: decimal digits only, no sign, no leading zeros. */
export function wholeNumber(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) {
    throw invalidParameter(`${name} ${shown(raw, 20)} is not a whole number: use decimal digits, from 1`);
  }
  return Number(raw);
}
