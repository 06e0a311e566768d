// Reading a request body with a byte cap: a body over the cap is refused without reading much past it.

import { concatBytes } from '../core/bytes.js';
import { ServiceError } from '../core/errors.js';

/** What is too large, how it is named in a message, and the setting that bounds it. */
export interface TooLarge {
  code: 'message-too-large' | 'body-too-large';
  name: string;
  setting: string;
}

/** The 413 for `what` at `size` bytes (or a description such as `over N`) past `maxBytes`. */
export function tooLargeError(what: TooLarge, size: string, maxBytes: number): ServiceError {
  return new ServiceError(what.code, `${what.name} is ${size} bytes; the limit is ${maxBytes} bytes (${what.setting})`);
}

/**
 * The request body, at most `maxBytes` bytes; a longer body is a 413 `code` once one chunk past the cap
 * has arrived, and the rest is never read.
 */
export async function readBody(request: Request, maxBytes: number, what: TooLarge): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const declared = Number(request.headers.get('content-length') ?? NaN);
  const tooLarge = (size: string) => tooLargeError(what, size, maxBytes);
  if (declared > maxBytes) throw tooLarge(String(declared));
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) throw tooLarge(`over ${maxBytes}`);
      chunks.push(value);
    }
  } finally {
    if (size > maxBytes) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return concatBytes(chunks, size);
}
