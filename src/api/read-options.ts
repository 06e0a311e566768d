// Where a read ends and how long a request may take, as a caller asks for them: one validation for the
// query parameters of /tcp/send and the steps of /tcp/exchange, bounded by the server's own settings.

import { ServiceError, shown } from '../core/errors.js';
import type { LimitName, Limits, ReadEnd } from '../net/dialogue.js';
import { NUMERIC_SETTINGS } from '../settings/config.js';

/** The most characters an `until` given as text may have (the query parameter, `{"text"}`): any protocol terminator. */
export const MAX_UNTIL_CHARACTERS = 256;
/** The most bytes an `until` may have in any form: 256 characters of UTF-8 take at most 1024; so the search stays cheap. */
export const MAX_UNTIL_BYTES = 1024;

/** How a caller asked a read to end; any of the three, the read ending on whichever comes first. */
export interface ReadOptions {
  until?: Uint8Array;
  bytes?: number;
  idleMs?: number;
}

const invalidParameter = (message: string) => new ServiceError('invalid-parameter', message);
const lossyUtf8 = new TextDecoder();

/**
 * The read end for `options`: whichever comes first of `until`, `bytes` and `idle_ms` (at most REPLY_IDLE_MS);
 * the server's quiet gap when none is given. `prefix` places the names in messages (`steps/2/` in a dialogue).
 */
export function readEndOf(options: ReadOptions, limits: Limits, prefix = ''): ReadEnd {
  const end: { until?: Uint8Array; bytes?: number; idleMs?: number } = {};
  if (options.until !== undefined) {
    const length = options.until.length;
    if (length < 1 || length > MAX_UNTIL_BYTES) throw invalidParameter(`${prefix}until is ${length} bytes; give 1 to ${MAX_UNTIL_BYTES} bytes`);
    end.until = options.until;
  }
  if (options.bytes !== undefined) end.bytes = bounded(options.bytes, `${prefix}bytes`, limits, 'maxReplyBytes', 'bytes');
  if (options.idleMs !== undefined) end.idleMs = bounded(options.idleMs, `${prefix}idle_ms`, limits, 'replyIdleMs', 'ms');
  else if (end.until === undefined && end.bytes === undefined) end.idleMs = limits.replyIdleMs;
  return end;
}

/**
 * `until` given as text (the percent-decoded query parameter): 1 to 256 characters, as the document says. A
 * byte that is not part of a UTF-8 character counts as one character, so any bytes can be given.
 */
export function untilText(bytes: Uint8Array | undefined, name = 'until'): Uint8Array | undefined {
  if (bytes === undefined) return undefined;
  const characters = [...lossyUtf8.decode(bytes)].length;
  if (characters < 1 || characters > MAX_UNTIL_CHARACTERS) {
    throw invalidParameter(`${name} is ${characters} characters; give 1 to ${MAX_UNTIL_CHARACTERS} (a byte that is not UTF-8 counts as one)`);
  }
  return bytes;
}

/** The limits of one request: `timeout_ms` shortens the deadline (at most REQUEST_DEADLINE_MS). */
export function limitsWithTimeout(limits: Limits, timeoutMs: number | undefined): Limits {
  if (timeoutMs === undefined) return limits;
  return { ...limits, requestDeadlineMs: bounded(timeoutMs, 'timeout_ms', limits, 'requestDeadlineMs', 'ms') };
}

/** Where limit `name` of `limits` comes from: the setting (`MAX_MESSAGE_BYTES`), or the caller's entry that narrowed it. */
export function limitSource(limits: Limits, name: LimitName): string {
  return limits.setBy?.[name] ?? NUMERIC_SETTINGS[name].name;
}

/** `value` (`name` in a message) as a whole number from 1 to the limit, or a 400 that names where the limit comes from. */
export function bounded(value: number, name: string, limits: Limits, limit: LimitName, unit: string): number {
  const max = limits[limit];
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    const source = limits.setBy?.[limit] ?? `the server's ${NUMERIC_SETTINGS[limit].name}`;
    throw invalidParameter(`${name} is ${value}; give a whole number of ${unit} from 1 to ${max} (${source})`);
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
