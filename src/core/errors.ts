// The one error type of the service: a stable code whose HTTP status comes from the one table.

import { ERROR_STATUS } from './error-codes.js';

export { ERROR_STATUS };

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Every failure the service reports: a stable code, the HTTP status the table gives it, and the low-level cause. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Members added to the JSON error body beside `error` (the steps of a dialogue completed before a fault). */
  readonly extra: Readonly<Record<string, unknown>>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string>; extra?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERROR_STATUS[code];
    this.headers = options?.headers ?? {};
    this.extra = options?.extra ?? {};
  }

  /** A copy that says more (a longer message, more body members): an error is never changed once built. */
  amended({ suffix = '', extra = {} }: { suffix?: string; extra?: Record<string, unknown> }): ServiceError {
    return new ServiceError(this.code, `${this.message}${suffix}`, { cause: this.cause, headers: { ...this.headers }, extra: { ...this.extra, ...extra } });
  }
}

/** Caller input as a message shows it: quoted, control characters escaped, cut after `max` characters. */
export function shown(input: string, max: number): string {
  return JSON.stringify(input.length > max ? `${input.slice(0, max)}…` : input);
}

/**
 * A malformed setting: which one and the form it must take. `/ready` lists these by name and form only, so
 * a value (possibly a secret) reaches nobody who did not already hold it; request errors may show the value.
 */
export class SettingError extends ServiceError {
  constructor(
    readonly setting: string,
    readonly expected: string,
    message: string,
  ) {
    super('config-invalid', message);
  }
}
