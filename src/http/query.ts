// Strict query-string parsing: percent-decoding that rejects what URLSearchParams would silently guess at.

import { ServiceError } from '../core/errors.js';

const encoder = new TextEncoder();
const ESCAPES = /%(?![0-9A-Fa-f]{2})/;

/**
 * A decoded query string. Each value is decoded when asked for, as text (UTF-8, strict) or as bytes
 * (any byte value): a message is bytes, a host name is text.
 */
export class Query {
  readonly #raw: Map<string, string>;
  constructor(raw: Map<string, string>) {
    this.#raw = raw;
  }
  has(name: string): boolean {
    return this.#raw.has(name);
  }
  names(): string[] {
    return [...this.#raw.keys()];
  }
  /** The value as text; percent-encoded bytes that are not UTF-8 are a 400. */
  get(name: string): string | undefined {
    const raw = this.#raw.get(name);
    return raw === undefined ? undefined : decodeText(raw, `parameter "${name}"`);
  }
  /** The value of a parameter a request must give: absent or empty is a 400 missing-parameter, with an `example` value. */
  required(name: string, example: string): string {
    const value = this.get(name);
    if (value === undefined || value === '') throw new ServiceError('missing-parameter', `parameter "${name}" is required (for example ${name}=${example})`);
    return value;
  }
  /** The value as bytes: `%XX` is the byte XX, whatever it is; other characters are their UTF-8 bytes. */
  bytes(name: string): Uint8Array | undefined {
    const raw = this.#raw.get(name);
    return raw === undefined ? undefined : decodeBytes(raw);
  }
}

/**
 * Decodes `a=1&b=x%20y`. `+` is a space, as in any HTML form. Invalid percent-encoding (a `%` that does
 * not start a `%XX` escape) and a parameter given twice are client errors (400), never a guess: a proxy
 * that opens connections must know exactly what it was asked for.
 */
export function parseQuery(search: string): Query {
  const params = new Map<string, string>();
  const text = search.startsWith('?') ? search.slice(1) : search;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeText(eq === -1 ? pair : pair.slice(0, eq), 'a parameter name');
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    if (ESCAPES.test(value)) throw invalidEncoding(`parameter "${name}"`);
    if (params.has(name)) {
      throw new ServiceError('duplicate-parameter', `parameter "${name}" is given more than once; give it once`);
    }
    params.set(name, value);
  }
  return new Query(params);
}

function invalidEncoding(what: string, cause?: unknown): ServiceError {
  return new ServiceError(
    'invalid-encoding',
    `${what} has invalid percent-encoding (each % must start a %XX escape, and text must be UTF-8)`,
    cause === undefined ? undefined : { cause },
  );
}

function decodeText(text: string, what: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch (cause) {
    throw invalidEncoding(what, cause);
  }
}

function decodeBytes(raw: string): Uint8Array {
  // The URL parser leaves only printable ASCII in a query; a direct caller may pass any string: its UTF-8 bytes count.
  const text = /[^ -~]/.test(raw) ? raw.replace(/[^ -~]+/g, (s) => [...encoder.encode(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')) : raw;
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      out[n++] = parseInt(text.slice(i + 1, i + 3), 16);
      i += 2;
    } else {
      out[n++] = c === 0x2b ? 0x20 : c;
    }
  }
  return out.slice(0, n);
}
