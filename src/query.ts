// Strict query-string parsing: percent-decoding that rejects what URLSearchParams would silently guess at.

import { ServiceError } from './errors.js';

/**
 * Decodes `a=1&b=x%20y` into a map. `+` is a space, as in any HTML form. Invalid percent-encoding,
 * percent-encoded bytes that are not UTF-8, and a parameter given twice are client errors (400),
 * never a guess: a proxy that opens connections must know exactly what it was asked for.
 */
export function parseQuery(search: string): Map<string, string> {
  const params = new Map<string, string>();
  const text = search.startsWith('?') ? search.slice(1) : search;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq), 'a parameter name');
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1), `parameter "${name}"`);
    if (params.has(name)) {
      throw new ServiceError('duplicate-parameter', 400, `parameter "${name}" is given more than once; give it once`);
    }
    params.set(name, value);
  }
  return params;
}

function decodeComponent(text: string, what: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch (cause) {
    throw new ServiceError(
      'invalid-encoding',
      400,
      `${what} has invalid percent-encoding (each % must start a %XX escape, and the bytes must be UTF-8)`,
      { cause },
    );
  }
}
