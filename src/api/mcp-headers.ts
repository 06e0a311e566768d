// MCP 2026-07-28's request metadata headers (Streamable HTTP, "Server Validation"): Mcp-Method and Mcp-Name
// mirror the body so intermediaries can route on them; a server that reads the body must refuse any header
// that is missing, malformed or says something else than the body, or the two could be made to disagree.

import { shown as shownInput } from '../core/errors.js';

/** The methods whose body names a target (params.name or params.uri) that Mcp-Name must carry. */
const NAMED_METHODS: Readonly<Record<string, 'name' | 'uri'>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

/** A plain header value: visible ASCII and space or tab inside (RFC 9110 field values; the Headers class trims around). */
const PLAIN_VALUE = /^[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?$/;
/** The encoded form: `=?base64?…?=`, markers lowercase and exact, strict base64 with padding inside. */
const ENCODED_VALUE = /^=\?base64\?(.*)\?=$/s;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Shown values are cut to this many characters: a message names the problem, it does not echo a payload. */
const SHOWN_CHARS = 80;
const shown = (value: string) => shownInput(value, SHOWN_CHARS);

/**
 * Why a request's Mcp-Method and Mcp-Name headers do not fit its body, or undefined when they do; `method` and
 * `params` are the body's. (Notifications are not checked: the revision defines no headers for them.)
 */
export function headerMismatch(headers: Headers, method: string, params: Record<string, unknown>): string | undefined {
  const methodHeader = headers.get('mcp-method');
  if (methodHeader === null) return `the Mcp-Method header is missing; it must repeat the body's method ${shown(method)}`;
  if (methodHeader !== method) return `Mcp-Method header value ${shown(methodHeader)} does not match body value ${shown(method)}`;
  const field = NAMED_METHODS[method];
  if (field === undefined) return undefined;
  const bodyValue = params[field];
  const nameHeader = headers.get('mcp-name');
  if (nameHeader === null) {
    return typeof bodyValue === 'string' ? `the Mcp-Name header is missing; it must repeat the body's params.${field} ${shown(bodyValue)}` : undefined;
  }
  const decoded = decodeHeaderValue(nameHeader);
  if (typeof decoded !== 'string') return `Mcp-Name header ${decoded.problem}`;
  if (decoded !== bodyValue) {
    return `Mcp-Name header value ${shown(decoded)} does not match body value ${typeof bodyValue === 'string' ? shown(bodyValue) : `(params.${field} is not a string)`}`;
  }
  return undefined;
}

/**
 * A header value as the client meant it: `=?base64?…?=` decoded (strict base64, then UTF-8), anything else
 * taken literally when it is plain visible ASCII; a problem otherwise.
 */
export function decodeHeaderValue(value: string): string | { problem: string } {
  const encoded = ENCODED_VALUE.exec(value);
  if (encoded) {
    const base64 = encoded[1]!;
    if (!STRICT_BASE64.test(base64)) return { problem: `${shown(value)} is not valid base64 between =?base64? and ?= (standard alphabet, with padding)` };
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(base64Bytes(base64));
    } catch {
      return { problem: `${shown(value)} does not decode to UTF-8 text` };
    }
  }
  if (!PLAIN_VALUE.test(value)) return { problem: `value ${shown(value)} has characters outside visible ASCII; send such a value as =?base64?…?=` };
  return value;
}

/** Bytes of a base64 text already checked against STRICT_BASE64. */
function base64Bytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
