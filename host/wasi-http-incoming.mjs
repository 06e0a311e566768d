// wasi:http for a pool worker: the incoming side (request in, response out) kept in memory on the worker's
// own thread, so a request costs one message from the dispatcher instead of a second HTTP server and a
// round trip through preview2-shim's I/O thread. Everything else of wasi:http (outgoing requests, fields)
// is preview2-shim's, unchanged.

import { outgoingHandler, types as shim } from '@bytecodealliance/preview2-shim/http';
import { streams } from '@bytecodealliance/preview2-shim/io';
import { hostResource } from './host-resource.mjs';

export { outgoingHandler };

/** @typedef {InstanceType<typeof shim.Fields>} HeaderFields */

const { Fields } = shim;
const symbolDispose = Symbol.dispose ?? Symbol.for('dispose');
const METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);

/**
 * The request body the dispatcher collected (all of it, or the first bytes past its cap), shared by the request,
 * its body and the body's stream. `release` lets the bytes go once the request is answered, whether or not the
 * component dropped its handles: a handle it keeps then holds a few bytes, not a body.
 */
class BodyBytes {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.bytes = bytes;
  }
  release() {
    this.bytes = new Uint8Array(0);
  }
}

/**
 * An input stream over the request body.
 * @param {BodyBytes} body
 */
function bytesInputStream(body) {
  let at = 0;
  /** @param {bigint} len */
  const read = (len) => {
    const { bytes } = body;
    if (at >= bytes.length) throw { tag: 'closed' };
    const chunk = bytes.slice(at, at + Number(len));
    at += chunk.length;
    return chunk;
  };
  /** @param {bigint} len */
  const skip = (len) => BigInt(read(len).length);
  return hostResource(streams.InputStream.prototype, { read, blockingRead: read, skip, blockingSkip: skip, [symbolDispose]() {} });
}

class IncomingBody {
  #streamTaken = false;
  #bytes;
  /** @param {BodyBytes} bytes */
  constructor(bytes) {
    this.#bytes = bytes;
  }
  stream() {
    if (this.#streamTaken) throw undefined;
    this.#streamTaken = true;
    return bytesInputStream(this.#bytes);
  }
  static finish() {
    throw new Error('incoming-body.finish: request trailers are not forwarded on this host');
  }
  [symbolDispose]() {}
}

/** A request as the dispatcher forwarded it: method, path, headers and the collected body. */
export class IncomingRequest {
  #method;
  #pathWithQuery;
  #authority;
  #headers;
  #consumed = false;
  #body;
  /**
   * @param {string} method
   * @param {string} pathWithQuery
   * @param {string} authority
   * @param {HeaderFields} headers
   * @param {Uint8Array} [body]
   */
  constructor(method, pathWithQuery, authority, headers, body = new Uint8Array(0)) {
    this.#body = new BodyBytes(body);
    const lower = method.toLowerCase();
    this.#method = METHODS.has(lower) ? { tag: lower } : { tag: 'other', val: method };
    this.#pathWithQuery = pathWithQuery;
    this.#authority = authority;
    this.#headers = headers;
  }
  method() {
    return this.#method;
  }
  pathWithQuery() {
    return this.#pathWithQuery;
  }
  scheme() {
    return { tag: 'HTTP' };
  }
  authority() {
    return this.#authority;
  }
  headers() {
    return this.#headers;
  }
  consume() {
    if (this.#consumed) throw undefined;
    this.#consumed = true;
    return new IncomingBody(this.#body);
  }
  /**
   * Lets the body's bytes go once the request is answered (the component can no longer read them).
   * @param {IncomingRequest} request
   */
  static release(request) {
    request.#body.release();
  }
  [symbolDispose]() {}
}

/**
 * wasi:io/streams: `blocking-write-and-flush` takes at most 4096 bytes per call. wasmtime traps on a longer one
 * (with the message below); this host throws too, so a component that works here works there, and the
 * component's chunking of its writes is tested.
 */
const BLOCKING_WRITE_MAX_BYTES = 4096;

/** Collects what the component writes to a response body. */
class OutgoingBody {
  /** @type {Uint8Array[]} */
  chunks = [];
  finished = false;
  #written = false;
  write() {
    if (this.#written) throw undefined;
    this.#written = true;
    const chunks = this.chunks;
    const take = (/** @type {Uint8Array} */ buf) => void chunks.push(new Uint8Array(buf));
    return hostResource(streams.OutputStream.prototype, {
      checkWrite: () => 1_048_576n,
      write: take,
      blockingWriteAndFlush: (/** @type {Uint8Array} */ buf) => {
        if (buf.byteLength > BLOCKING_WRITE_MAX_BYTES) throw new Error(`Buffer too large for blocking-write-and-flush (expected at most ${BLOCKING_WRITE_MAX_BYTES}): ${buf.byteLength} bytes`);
        take(buf);
      },
      flush() {},
      blockingFlush() {},
      [symbolDispose]() {},
    });
  }
  /** @param {OutgoingBody} body */
  static finish(body) {
    body.finished = true;
  }
  [symbolDispose]() {}
}

export class OutgoingResponse {
  #statusCode = 200;
  #headers;
  /** @type {OutgoingBody | undefined} */
  #body;
  /** @param {HeaderFields} headers */
  constructor(headers) {
    this.#headers = headers;
  }
  statusCode() {
    return this.#statusCode;
  }
  /** @param {number} statusCode */
  setStatusCode(statusCode) {
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) throw undefined;
    this.#statusCode = statusCode;
  }
  headers() {
    return this.#headers;
  }
  body() {
    if (this.#body) throw undefined;
    this.#body = new OutgoingBody();
    return this.#body;
  }
  /**
   * Status, headers and body bytes, once the component has finished the body.
   * @param {OutgoingResponse} response
   * @returns {{ status: number, headers: [string, string][], body: Uint8Array, finished: boolean }}
   */
  static collect(response) {
    const body = response.#body;
    const size = body ? body.chunks.reduce((n, c) => n + c.length, 0) : 0;
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of body?.chunks ?? []) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    const decoder = new TextDecoder();
    /** @type {[string, string][]} */
    const headers = response.#headers.entries().map(([name, value]) => [name, decoder.decode(value)]);
    return { status: response.#statusCode, headers, body: bytes, finished: body?.finished ?? false };
  }
  [symbolDispose]() {}
}

/** @typedef {{ tag: 'ok', val: OutgoingResponse } | { tag: 'err', val: unknown }} ResponseResult */

export class ResponseOutparam {
  #onSet;
  /** @param {(response: ResponseResult) => void} onSet */
  constructor(onSet) {
    this.#onSet = onSet;
  }
  /**
   * @param {ResponseOutparam} param
   * @param {ResponseResult} response
   */
  static set(param, response) {
    param.#onSet(response);
  }
  [symbolDispose]() {}
}

/** Headers the dispatcher must not forward to a component (hop-by-hop), as preview2-shim's server does. */
const FORBIDDEN = new Set(['connection', 'keep-alive', 'host', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/**
 * Builds the `Fields` of an incoming request from Node's raw header list.
 * @param {string[]} rawHeaders
 */
export function requestFields(rawHeaders) {
  const encoder = new TextEncoder();
  /** @type {[string, Uint8Array][]} */
  const entries = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = String(rawHeaders[i]).toLowerCase();
    if (!FORBIDDEN.has(name)) entries.push([name, encoder.encode(rawHeaders[i + 1])]);
  }
  try {
    return releasable(Fields.fromList(entries));
  } catch {
    // A header preview2-shim refuses is one no handler needs: keep the ones it accepts.
    const fields = new Fields();
    for (const [name, value] of entries) {
      try {
        fields.append(name, value);
      } catch {
        // dropped
      }
    }
    return releasable(fields);
  }
}

/**
 * `fields` with the dispose a component's `using` calls on it (jco calls it when the component drops the handle;
 * the shim's Fields has none, and a component running in plain Node, as in unit tests, calls it directly).
 * @param {HeaderFields} fields
 */
function releasable(fields) {
  return Object.assign(fields, { [symbolDispose]() {} });
}

export const types = { ...shim, IncomingRequest, IncomingBody, OutgoingResponse, OutgoingBody, ResponseOutparam };
