// What the local host accepts of a request before the component sees it: a request line long enough for a
// percent-encoded MAX_MESSAGE_BYTES message, a body long enough for the largest the component takes, and a
// JSON error (never Node's bare 431) for anything longer.

import { STATUS_CODES } from 'node:http';
import { errorBody } from '../src/core/error-body.js';
import { ERROR_STATUS } from '../src/core/error-codes.js';
import { exchangeBodyLimit } from '../src/settings/bounds.js';
import { NUMERIC_SETTINGS, parseWholeNumber } from '../src/settings/setting-table.js';

/** MAX_MESSAGE_BYTES: the component's default and upper bound. */
const MESSAGE_BYTES = NUMERIC_SETTINGS.maxMessageBytes;
/** Room for everything in the request head besides `msg`: the other parameters and the headers. */
const HEAD_ROOM_BYTES = 16_384;

/**
 * The component's MAX_MESSAGE_BYTES as configured; a malformed value counts as the bound (the component reports it).
 * @param {Record<string, string | undefined>} env
 */
function maxMessageBytes(env) {
  const raw = env.MAX_MESSAGE_BYTES?.trim();
  if (raw === undefined || raw === '') return MESSAGE_BYTES.defaultValue;
  return parseWholeNumber(raw, MESSAGE_BYTES.min, MESSAGE_BYTES.max) ?? MESSAGE_BYTES.max;
}

/**
 * Largest request head (request line and headers): `msg` percent-encoded is 3 characters a byte.
 * @param {Record<string, string | undefined>} env
 */
export function maxHeadBytes(env) {
  return 3 * maxMessageBytes(env) + HEAD_ROOM_BYTES;
}

/**
 * Largest body forwarded: the component's largest cap (a /tcp/exchange body: twice MAX_MESSAGE_BYTES plus 64 KiB).
 * @param {Record<string, string | undefined>} env
 */
export function maxBodyBytes(env) {
  return exchangeBodyLimit(maxMessageBytes(env));
}

/**
 * The JSON error of `code` as raw HTTP, for a request Node could not parse (no ServerResponse exists for it).
 * @param {keyof typeof ERROR_STATUS} code
 * @param {string} message
 */
function rawJsonResponse(code, message) {
  const status = ERROR_STATUS[code];
  const body = JSON.stringify(errorBody(code, message));
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncache-control: no-store\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * Answers a request Node could not parse with a JSON error: 414 for an over-long head, 400 otherwise.
 * @param {Error & { code?: string }} error
 * @param {import('node:stream').Duplex} socket
 * @param {number} headLimit
 */
export function answerClientError(error, socket, headLimit) {
  if (socket.writable && error.code !== 'ECONNRESET') {
    socket.end(
      error.code === 'HPE_HEADER_OVERFLOW'
        ? rawJsonResponse('uri-too-long', `the request line and headers exceed ${headLimit} bytes (3 bytes per byte of MAX_MESSAGE_BYTES, plus ${HEAD_ROOM_BYTES}); send long messages as the body of POST /tcp/send`)
        : rawJsonResponse('invalid-request', 'the request is not valid HTTP/1.1'),
    );
  }
  socket.destroy();
}

/**
 * Collects the request body, at most `limit` + 1 bytes: one byte more tells the component the body is too
 * long, and the rest is kept waiting until the answer is written, then drained (drainAfterAnswer). Resolves undefined when the
 * client went away before its body ended: a partial body is never handed on.
 * @param {import('node:http').IncomingMessage} req
 * @param {number} limit
 * @returns {Promise<{ body: Uint8Array, overflow: boolean } | undefined>}
 */
export function collectBody(req, limit) {
  return new Promise((resolve) => {
    /** @type {Buffer[]} */
    let chunks = [];
    let size = 0;
    let settled = false;
    /** @param {boolean} overflow */
    const done = (overflow) => {
      if (settled) return;
      settled = true;
      req.removeAllListeners('data');
      // A fresh buffer of its own, never Node's shared pool: it is transferred to a worker.
      const body = new Uint8Array(Math.min(size, limit + 1));
      let at = 0;
      for (const chunk of chunks) {
        if (at >= body.length) break;
        body.set(chunk.subarray(0, body.length - at), at);
        at += Math.min(chunk.length, body.length - at);
      }
      chunks = [];
      resolve({ body, overflow });
    };
    const abandon = () => {
      if (settled) return;
      settled = true;
      req.removeAllListeners('data');
      chunks = [];
      resolve(undefined);
    };
    req.on('data', (/** @type {Buffer} */ chunk) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        req.pause();
        done(true);
      }
    });
    req.once('end', () => done(false));
    req.once('error', abandon);
    req.once('close', () => (req.complete ? done(false) : abandon()));
  });
}

/** After the answer to a request whose body was not read to its end: how long, and how many bytes, the host
 * goes on reading and discarding the rest before it drops the connection. */
export const DRAIN_MS = 2_000;
export const DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads and discards the rest of `req`'s body once its answer is written, at most DRAIN_MS and DRAIN_BYTES, then
 * drops the connection if the body has not ended (a lingering close, as nginx does). Dropping it at once, with
 * the client's bytes unread, makes the kernel reset the connection, and a client still uploading meets the reset
 * instead of its answer (413 for a body too long). A body that ends in time leaves the connection usable.
 * @param {import('node:http').IncomingMessage} req
 */
export function drainAfterAnswer(req) {
  // A body read to its end (or none at all) leaves nothing to drain.
  if (req.complete) return;
  let discarded = 0;
  const drop = () => req.socket.destroy();
  const timer = setTimeout(drop, DRAIN_MS);
  const settle = () => clearTimeout(timer);
  req.once('end', settle);
  req.once('close', settle);
  req.removeAllListeners('data');
  req.on('data', (/** @type {Buffer} */ chunk) => {
    discarded += chunk.length;
    if (discarded > DRAIN_BYTES) drop();
  });
  req.resume();
}
