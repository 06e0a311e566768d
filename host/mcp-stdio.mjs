// MCP over stdio: each newline-delimited JSON-RPC message from stdin becomes a POST /mcp request to the component,
// with the headers a stdio session implies, and each JSON-RPC answer goes to stdout as one line. The component's
// own MCP handler judges every message (parse errors included); the host adds only the framing, the session's
// protocol version and, when the service has callers, the token of the caller this process acts for.

import { errorBody } from '../src/core/error-body.js';
import { ERROR_STATUS } from '../src/core/error-codes.js';
import { PoolError } from './pool.mjs';
import { stdioLines } from './stdio-lines.mjs';

/** JSON-RPC's implementation-defined server error: a refusal of the service itself (401, 413, host-busy…), its code in `data`. */
export const SERVICE_ERROR = -32000;
/** The stateless revision: its messages name their version in `_meta` instead of negotiating it. */
const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
/** A header value sent as is: visible ASCII (src/api/mcp-headers.ts refuses anything else unencoded). */
const PLAIN_HEADER = /^[\x21-\x7e]+$/;

/**
 * @typedef {import('./pool.mjs').WorkRequest} WorkRequest
 * @typedef {import('./pool.mjs').WorkReply} WorkReply
 * @typedef {{ jsonrpc?: unknown, id?: unknown, method?: unknown, params?: unknown }} Message
 */

/**
 * One stdio session's state: the protocol version its initialize settled (sent as MCP-Protocol-Version on every
 * later request, as a Streamable HTTP client would) and the token presented for it.
 */
export class StdioSession {
  /** @type {string | undefined} */
  protocolVersion;

  /** @param {{ token?: string }} options `token`: presented as `Authorization: Bearer` on every request */
  constructor({ token }) {
    this.token = token;
  }

  /**
   * The POST /mcp request for one line; `message` is the line parsed (undefined when it is not JSON: the
   * component answers the parse error).
   * @param {Buffer} line
   * @param {unknown} message
   * @returns {WorkRequest}
   */
  request(line, message) {
    const headers = ['content-type', 'application/json', 'accept', 'application/json, text/event-stream'];
    if (this.token !== undefined) headers.push('authorization', `Bearer ${this.token}`);
    const stateless = statelessVersion(message);
    const version = stateless ?? this.protocolVersion;
    if (version !== undefined) headers.push('mcp-protocol-version', version);
    // The stateless revision wants Mcp-Method and Mcp-Name to repeat the body for intermediaries; over stdio
    // there are none, so they are taken from the body itself.
    if (stateless !== undefined) headers.push(...mirrorHeaders(/** @type {Message} */ (message)));
    // A fresh copy: the pool transfers the body's buffer to its worker, and a line may share Node's pool.
    return { method: 'POST', url: '/mcp', authority: 'localhost', rawHeaders: headers, body: new Uint8Array(line) };
  }

  /**
   * The line to write for the component's reply to `message`, or undefined when there is nothing to answer (a
   * notification, a response). Remembers the version an initialize settled.
   * @param {WorkReply} reply
   * @param {unknown} message
   * @returns {string | undefined}
   */
  answer(reply, message) {
    const body = parseJson(reply.body);
    if (isJsonRpc(body)) {
      if (methodOf(message) === 'initialize' && typeof body.result?.protocolVersion === 'string') this.protocolVersion = body.result.protocolVersion;
      return JSON.stringify(body);
    }
    if (reply.body.length === 0 && reply.status < 300) return undefined;
    // The service refused the request before MCP saw it (auth, size, settings): its JSON error as a JSON-RPC error.
    const refusal = /** @type {{ error?: { code?: unknown, message?: unknown } } | undefined} */ (body)?.error;
    const code = typeof refusal?.code === 'string' ? refusal.code : 'internal';
    const text = typeof refusal?.message === 'string' ? refusal.message : `the component answered ${reply.status} with no JSON-RPC body`;
    return serviceError(message, code, code === 'unauthorized' ? `${text} (over stdio the host presents STDIO_TOKEN, or AUTH_TOKEN when STDIO_TOKEN is unset)` : text);
  }
}

/**
 * The JSON-RPC error line for a refusal `code` of the service's error table, answering `message` (null id when its
 * id cannot be read); undefined for a notification, which gets no answer.
 * @param {unknown} message
 * @param {keyof typeof ERROR_STATUS | string} code
 * @param {string} text
 */
export function serviceError(message, code, text) {
  const id = idOf(message);
  // Notifications and responses (a message with no method) get no answer, even a refusal.
  if (id === undefined && methodOf(message) !== undefined) return undefined;
  if (methodOf(message) === undefined && isObject(message) && ('result' in message || 'error' in message)) return undefined;
  const status = /** @type {Record<string, number>} */ (ERROR_STATUS)[code];
  return JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error: { code: SERVICE_ERROR, message: text, data: { ...errorBody(code, text).error, status } } });
}

/**
 * Serves one stdio session: reads `input` line by line, has `run` answer each (several at once, at most
 * `maxInFlight`: reading pauses beyond that, so memory stays bounded), and writes each answer line to `write`.
 * Resolves when `input` ended (or `signal` stopped the reading) and every request in flight was answered.
 * @param {{
 *   input: AsyncIterable<Buffer | string>,
 *   write: (line: string) => void,
 *   run: (request: WorkRequest) => Promise<WorkReply>,
 *   maxLineBytes: number,
 *   maxInFlight: number,
 *   token?: string,
 *   signal?: AbortSignal,
 *   log: (line: string) => void,
 * }} options
 */
export async function serveStdio({ input, write, run, maxLineBytes, maxInFlight, token, signal, log }) {
  const session = new StdioSession({ token });
  /** @type {Set<Promise<void>>} */
  const inFlight = new Set();
  for await (const line of stdioLines(untilAborted(input, signal), maxLineBytes)) {
    if (line.kind === 'unterminated') {
      // Framing says a message ends with its newline: bytes after the last one are no message.
      log(`ai-agent-sockets stdio: stdin ended inside a message (${line.bytes} bytes without a newline); it was dropped`);
      break;
    }
    if (line.kind === 'too-long') {
      const answer = serviceError(undefined, 'body-too-large', `the message is longer than ${maxLineBytes} bytes (twice MAX_MESSAGE_BYTES plus 64 KiB) and was dropped unread`);
      if (answer) write(answer);
      continue;
    }
    const message = parseJson(line.bytes);
    const done = answerLine(session, run, line.bytes, message).then(
      (answer) => answer !== undefined && write(answer),
      (error) => log(`ai-agent-sockets stdio: a message failed in the host: ${error?.stack ?? error}`),
    );
    const tracked = done.then(() => void inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
  }
  // Said on stderr so an operator (and a test) sees the session end was noticed while answers are still due.
  const why = signal?.aborted ? 'reading stopped' : 'stdin ended';
  log(`ai-agent-sockets stdio: ${why}; finishing ${inFlight.size} ${inFlight.size === 1 ? 'request' : 'requests'} in flight`);
  await Promise.all(inFlight);
}

/**
 * The chunks of `input` until `signal` aborts: reading stops at once, even while it waits for the next chunk.
 * @param {AsyncIterable<Buffer | string>} input
 * @param {AbortSignal | undefined} signal
 * @returns {AsyncGenerator<Buffer | string>}
 */
async function* untilAborted(input, signal) {
  if (signal === undefined) return yield* input;
  if (signal.aborted) return;
  const iterator = input[Symbol.asyncIterator]();
  /** @type {Promise<{ done: true, value: undefined }>} */
  const aborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve({ done: true, value: undefined }), { once: true }));
  try {
    while (true) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Closes the input (for stdin: it stops reading), unless it ended by itself.
    void iterator.return?.();
  }
}

/**
 * The answer line for one message line: the component's, or the pool's refusal as a JSON-RPC error.
 * @param {StdioSession} session
 * @param {(request: WorkRequest) => Promise<WorkReply>} run
 * @param {Buffer} line
 * @param {unknown} message
 */
async function answerLine(session, run, line, message) {
  try {
    return session.answer(await run(session.request(line, message)), message);
  } catch (error) {
    if (!(error instanceof PoolError)) throw error;
    return serviceError(message, error.code, error.message);
  }
}

/** @param {unknown} message @returns {string | undefined} */
function statelessVersion(message) {
  const params = isObject(message) ? message.params : undefined;
  const meta = isObject(params) ? params._meta : undefined;
  const version = isObject(meta) ? meta[META_VERSION] : undefined;
  return typeof version === 'string' && PLAIN_HEADER.test(version) ? version : undefined;
}

/**
 * Mcp-Method and Mcp-Name as the body gives them (the name always base64-encoded, so any text passes unchanged).
 * A method that cannot be a header value is left out: the component then refuses the request, naming the header.
 * @param {Message} message
 */
function mirrorHeaders(message) {
  const headers = [];
  if (typeof message.method === 'string' && PLAIN_HEADER.test(message.method)) headers.push('mcp-method', message.method);
  const params = /** @type {Record<string, unknown>} */ (message.params);
  // resources/read names its target by uri, every other named method (tools/call, prompts/get) by name.
  const name = typeof message.method === 'string' && message.method.startsWith('resources/') ? params.uri : params.name;
  if (typeof name === 'string') headers.push('mcp-name', `=?base64?${Buffer.from(name).toString('base64')}?=`);
  return headers;
}

/** @param {unknown} value @returns {value is Record<string, any>} */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @param {unknown} body @returns {body is Record<string, any>} */
function isJsonRpc(body) {
  if (Array.isArray(body)) return body.length > 0 && body.every(isJsonRpc);
  return isObject(body) && body.jsonrpc === '2.0';
}

/** @param {unknown} message */
function idOf(message) {
  const id = isObject(message) ? message.id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

/** @param {unknown} message */
function methodOf(message) {
  const method = isObject(message) ? message.method : undefined;
  return typeof method === 'string' ? method : undefined;
}

/** @param {Uint8Array} bytes */
function parseJson(bytes) {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}
