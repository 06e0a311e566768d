// The local host's HTTP front end: hands each request to the worker pool (host/pool.mjs) and writes the
// component's reply, or the pool's error as the service's JSON error. No handler logic lives here.

import http from 'node:http';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { errorBody } from '../src/core/error-body.js';
import { ERROR_STATUS } from '../src/core/error-codes.js';
import { POOL_SETTINGS, PoolError, WorkerPool } from './pool.mjs';
import { SharedThreads } from './shared-threads.mjs';
import { answerClientError, collectBody, drainAfterAnswer, maxBodyBytes, maxHeadBytes } from './request-limits.mjs';
import { componentEnvironment, ownAddresses, socketsMode } from './settings.mjs';
import { ENGINE_INTERFACE } from '../scripts/tls-engine.mjs';
import { transpiledWithEngine } from './transpile-cache.mjs';

/** How long an idle keep-alive connection stays open. */
const KEEP_ALIVE_MS = 5_000;
/** How long `close()` lets requests in flight finish by default. */
const CLOSE_GRACE_MS = 10_000;

/**
 * Writes the service's JSON error shape (src/http/responses.ts) with the status the one error table gives
 * `code`, or cuts the connection when headers went out already.
 * @param {http.ServerResponse} res
 * @param {keyof typeof ERROR_STATUS} code
 * @param {string} message
 * @param {Record<string, string>} [headers]
 */
function jsonError(res, code, message, headers = {}) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(ERROR_STATUS[code], { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(errorBody(code, message)));
}

/**
 * @param {http.ServerResponse} res
 * @param {import('./pool.mjs').WorkReply} reply
 */
function writeReply(res, reply) {
  if (res.destroyed) return;
  /** @type {Record<string, string | string[]>} */
  const headers = {};
  for (const [name, value] of reply.headers) {
    // Node frames the body itself; a component's framing headers would conflict with it.
    if (name === 'content-length' || name === 'transfer-encoding') continue;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [previous, value].flat();
  }
  headers['content-length'] = String(reply.body.length);
  try {
    res.writeHead(reply.status, headers);
  } catch (error) {
    // A status or header Node cannot send must not take the whole host down.
    const reason = /** @type {{ code?: string, message?: string }} */ (error);
    jsonError(res, 'component-failed', `the component's response could not be sent (${reason.code ?? reason.message})`);
    return;
  }
  res.end(reply.body);
}

/**
 * @typedef {object} LocalHost
 * @property {string} url
 * @property {number} port
 * @property {(graceMs?: number) => Promise<void>} close Stops accepting, lets requests in flight finish (up to `graceMs`), then stops the workers.
 * @property {Promise<void>} ready Resolves when at least one worker can take requests.
 * @property {() => { workers: number, idle: number, queued: number, inFlight: number }} stats `inFlight`: requests reading their body, queued or in a worker.
 * @property {() => number} openConnections Client connections the server holds open.
 * @property {() => number[]} workerIds One number per worker; a replaced worker's number is new.
 * @property {() => number} threads Worker threads running.
 * @property {'worker' | 'io-thread'} sockets Where the workers make socket calls.
 */

/**
 * The component to run and how, as a deployment chooses it: its file, its settings (`env`, of which it sees
 * only its own), where workers make socket calls (see socketsMode(); default: `worker` where Node has JSPI), and
 * where the host's and the workers' log lines go (default: stderr).
 * @typedef {{
 *   componentPath: string,
 *   env?: Record<string, string | undefined>,
 *   sockets?: 'worker' | 'io-thread',
 *   log?: (line: string) => void,
 * }} ComponentOptions
 */

/**
 * The server's options: the component's, where it listens (default: 127.0.0.1, any free port), and the pool's
 * size and queue (host/pool.mjs, POOL_SETTINGS; the defaults are theirs).
 * @typedef {ComponentOptions & {
 *   port?: number,
 *   host?: string,
 *   poolSize?: number,
 *   queueLimit?: number,
 *   queueWaitMs?: number,
 * }} ServerOptions
 */

/**
 * What only tests set, apart from the options a deployment chooses: stand-ins and narrowed limits. `npm start`
 * passes none.
 * @typedef {{
 *   workerUrl?: URL,
 *   imports?: Record<string, string>,
 *   importsData?: unknown,
 *   transpileCacheDir?: string,
 *   instanceMemoryLimitBytes?: number,
 *   threads?: number,
 * }} TestHooks
 * - `workerUrl`: a worker module standing in for host/worker.mjs (it keeps a thread of its own).
 * - `imports`: modules standing in for interfaces beyond WASI (see transpiled()); each worker hands
 *   `importsData` to them as `workerData.importsData`.
 * - `transpileCacheDir`: replaces the transpile cache's directory (.cache/transpiled).
 * - `instanceMemoryLimitBytes`: the linear memory at which an instance is replaced by a fresh one (host/worker.mjs).
 * - `threads`: with sockets on the workers' own threads, how many threads the workers share (default: one per
 *   core, at most one per worker).
 */

/** No stand-ins: what `npm start` runs. */
const NO_TEST_HOOKS = /** @type {TestHooks} */ ({});

/**
 * The component transpiled (with the TLS engine) for where its workers make socket calls, and its environment.
 * @param {ComponentOptions} options
 * @param {TestHooks} testHooks
 */
async function loadComponent({ componentPath, env = {}, sockets = socketsMode(undefined) }, { transpileCacheDir, imports }) {
  const inThread = sockets === 'worker';
  const transpiled = await transpiledWithEngine(componentPath, transpileCacheDir, imports, { inThread });
  return { transpiled, inThread, sockets, env: componentEnvironment(env) };
}

/**
 * Starts `size` workers of the component with `env` as its whole environment. With sockets on the workers' own
 * threads, one thread runs several instances at once: one thread per core, the workers (one instance each)
 * spread over them. A worker standing in for the real one (`workerUrl`) keeps a thread each.
 * @param {Awaited<ReturnType<typeof loadComponent>>} component
 * @param {{ env: Record<string, string>, size: number, queueLimit?: number, queueWaitMs?: number, log?: (line: string) => void }} pool
 * @param {TestHooks} testHooks
 */
function startWorkers({ transpiled: { entry, engine }, inThread }, { env, size, queueLimit, queueWaitMs, log }, testHooks) {
  const { workerUrl, imports, importsData, instanceMemoryLimitBytes, threads = availableParallelism() } = testHooks;
  const workerData = { entry: pathToFileURL(entry).href, env, importsData, instanceMemoryLimitBytes };
  const shared =
    inThread && !workerUrl
      ? new SharedThreads({
          workerUrl: new URL('./worker.mjs', import.meta.url),
          workerData: { ...workerData, instances: { engine: pathToFileURL(engine).href, engineInterface: ENGINE_INTERFACE, imports } },
          slotsPerThread: Math.ceil(size / Math.min(size, threads)),
          log: log ?? console.error,
        })
      : undefined;
  const pool = new WorkerPool({ workerData, size, queueLimit, queueWaitMs, log, workerUrl, ...(shared ? { startThread: () => shared.start() } : {}) });
  return {
    pool,
    threads: () => shared?.threads ?? pool.stats().workers,
    async close() {
      await pool.close();
      await shared?.close();
    },
  };
}

/** What the settings check asks: readiness, which needs no token. */
const READY_REQUEST = { method: 'GET', url: '/ready', authority: 'localhost', rawHeaders: [], body: new Uint8Array() };

/**
 * Asks the component whether its settings are well-formed (GET /ready), on one instance started for that and
 * stopped after, so that a server can refuse to start before it listens. Resolves with what is malformed, in
 * the component's words, or undefined when every setting is well-formed; rejects (an AggregateError) when the
 * worker could not load the component.
 * @param {ComponentOptions} options
 * @param {TestHooks} [testHooks]
 * @returns {Promise<string | undefined>}
 */
export async function settingsProblem(options, testHooks = NO_TEST_HOOKS) {
  const component = await loadComponent(options, testHooks);
  const workers = startWorkers(component, { env: component.env, size: 1, log: options.log }, testHooks);
  try {
    await workers.pool.ready;
    const reply = await workers.pool.run(READY_REQUEST);
    if (reply.status === 200) return undefined;
    const body = /** @type {{ error?: { message?: string } } | undefined} */ (parseJson(reply.body));
    return body?.error?.message ?? `GET /ready answered ${reply.status}`;
  } finally {
    await workers.close();
  }
}

/** @param {Uint8Array} bytes */
function parseJson(bytes) {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/**
 * @param {http.Server} server
 * @param {number} port
 * @param {string} host
 * @returns {Promise<import('node:net').AddressInfo>}
 */
function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(/** @type {import('node:net').AddressInfo} */ (server.address())));
  });
}

/**
 * The component's environment for a server bound to `address`: `env`, with the addresses the server answers
 * at added to OWN_ADDRESSES, so that no request is sent back into the server.
 * @param {Record<string, string>} env
 * @param {import('node:net').AddressInfo} address
 */
function withOwnAddresses(env, address) {
  const own = [...ownAddresses(address.address, address.port), ...(env.OWN_ADDRESSES ? [env.OWN_ADDRESSES] : [])];
  return { ...env, OWN_ADDRESSES: own.join(',') };
}

/**
 * The HTTP server, not yet answering: heads capped at the component's limit (a request over it is answered by
 * answerClientError), keep-alive connections closed when idle, and a count of the connections it holds open.
 * @param {Record<string, string>} componentEnv
 */
function createHttpServer(componentEnv) {
  const headLimit = maxHeadBytes(componentEnv);
  const server = http.createServer({ maxHeaderSize: headLimit });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.on('clientError', (error, socket) => answerClientError(error, socket, headLimit));
  /** @type {Set<import('node:net').Socket>} */
  const connections = new Set();
  server.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  return { server, openConnections: () => connections.size };
}

/**
 * Answers the server's requests through the pool: reads each request's body, hands the request to the pool and
 * writes the reply. It counts the requests between arrival and answer, refuses those past the pool's capacity
 * before reading their body, and every request once closing.
 */
class FrontEnd {
  #closing = false;
  /**
   * Requests between arrival and answer: with their bodies being read, queued, or in a worker. At most the pool's
   * capacity (POOL_SIZE + QUEUE_LIMIT), so the bodies held are at most that many times the body cap (README).
   */
  inFlight = 0;

  /**
   * @param {http.Server} server
   * @param {WorkerPool} pool
   * @param {number} bodyLimit the most body bytes read of a request (the component's setting)
   * @param {(line: string) => void} log
   */
  constructor(server, pool, bodyLimit, log) {
    this.server = server;
    this.pool = pool;
    this.bodyLimit = bodyLimit;
    server.on('request', (req, res) => {
      this.#handle(req, res).catch((error) => {
        // Anything but a pool error is the host's own fault: say so to this client, log it, keep serving the others.
        log(`ai-agent-sockets host: ${req.method} ${(req.url ?? '').slice(0, 200)} failed in the host: ${error?.stack ?? error}`);
        jsonError(res, 'internal', 'the host failed while handling this request');
      });
    });
  }

  /**
   * Refuses new requests, stops accepting, and lets requests in flight finish for up to `graceMs`; false when
   * it was closing already.
   * @param {number} graceMs
   */
  async close(graceMs) {
    if (this.#closing) return false;
    this.#closing = true;
    this.pool.refuse();
    const closed = new Promise((resolve) => this.server.close(resolve));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    return true;
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  async #handle(req, res) {
    if (this.#closing) return jsonError(res, 'host-closing', 'the server is shutting down', { connection: 'close' });
    if (this.inFlight >= this.pool.capacity) {
      // Refused before its body is read: the body is discarded as it arrives, never kept.
      refuse(res, this.pool.full());
      drainAfterAnswer(req);
      return;
    }
    this.inFlight++;
    try {
      await this.#answer(req, res);
    } finally {
      this.inFlight--;
    }
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  async #answer(req, res) {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    // The body arrives before a worker is taken: a slow upload holds its connection, never a worker.
    const collected = await collectBody(req, this.bodyLimit);
    // A client that left before its body ended gets nothing done for it: no part of a body reaches a peer.
    if (collected === undefined || gone.signal.aborted) return;
    if (this.#closing) return jsonError(res, 'host-closing', 'the server is shutting down', { connection: 'close' });
    const request = { method: req.method ?? 'GET', url: req.url ?? '/', authority: req.headers.host ?? '', rawHeaders: req.rawHeaders, body: collected.body };
    try {
      writeReply(res, await this.pool.run(request, gone.signal));
      // The rest of a body too long to read is drained after the answer, so the client reads the answer.
      if (collected.overflow) drainAfterAnswer(req);
    } catch (error) {
      if (!(error instanceof PoolError)) throw error;
      refuse(res, error);
    }
  }
}

/**
 * @param {http.ServerResponse} res
 * @param {PoolError} error
 */
function refuse(res, error) {
  jsonError(res, error.code, error.message, error.headers);
}

/**
 * Starts the host. Resolves once the server listens; requests that arrive before the first worker is
 * ready wait in the queue. Rejects when it cannot listen. The component sees `env`'s settings, and
 * OWN_ADDRESSES extended by every address the server answers at.
 * @param {ServerOptions} options
 * @param {TestHooks} [testHooks] stand-ins and narrowed limits, for tests only
 * @returns {Promise<LocalHost>}
 */
export async function startServer(options, testHooks = NO_TEST_HOOKS) {
  const { port = 0, host = '127.0.0.1', poolSize = POOL_SETTINGS.poolSize.defaultValue, queueLimit, queueWaitMs, log } = options;
  const component = await loadComponent(options, testHooks);
  const { server, openConnections } = createHttpServer(component.env);
  const address = await listen(server, port, host);
  // The workers read their settings once, when they start, and OWN_ADDRESSES needs the bound port (PORT=0
  // too): so they start here, right after the 'listening' event and before any I/O callback can read a request.
  let workers;
  try {
    workers = startWorkers(component, { env: withOwnAddresses(component.env, address), size: poolSize, queueLimit, queueWaitMs, log }, testHooks);
  } catch (error) {
    server.close();
    throw error;
  }
  const front = new FrontEnd(server, workers.pool, maxBodyBytes(component.env), log ?? console.error);
  return localHost(front, workers, { address, openConnections, sockets: component.sockets });
}

/**
 * @typedef {object} ComponentPool
 * @property {WorkerPool} pool
 * @property {Record<string, string>} env The component's environment (its own settings only).
 * @property {() => Promise<void>} close Stops the workers, ending any request in flight.
 * @property {() => number} threads Worker threads running.
 * @property {'worker' | 'io-thread'} sockets Where the workers make socket calls.
 */

/**
 * Starts the component's workers without any server in front of them, for a front end that is not HTTP (MCP over
 * stdio, host/mcp-stdio.mjs). No address is bound, so OWN_ADDRESSES is the settings' alone.
 * @param {ComponentOptions & Pick<ServerOptions, 'poolSize' | 'queueLimit' | 'queueWaitMs'>} options
 * @param {TestHooks} [testHooks]
 * @returns {Promise<ComponentPool>}
 */
export async function startComponentPool(options, testHooks = NO_TEST_HOOKS) {
  const { poolSize = POOL_SETTINGS.poolSize.defaultValue, queueLimit, queueWaitMs, log } = options;
  const component = await loadComponent(options, testHooks);
  const workers = startWorkers(component, { env: component.env, size: poolSize, queueLimit, queueWaitMs, log }, testHooks);
  return { pool: workers.pool, env: component.env, close: () => workers.close(), threads: workers.threads, sockets: component.sockets };
}

/**
 * What a started server offers its caller.
 * @param {FrontEnd} front
 * @param {ReturnType<typeof startWorkers>} workers
 * @param {{ address: import('node:net').AddressInfo, openConnections: () => number, sockets: 'worker' | 'io-thread' }} server
 * @returns {LocalHost}
 */
function localHost(front, workers, { address, openConnections, sockets }) {
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    port: address.port,
    async close(graceMs = CLOSE_GRACE_MS) {
      if (await front.close(graceMs)) await workers.close();
    },
    ready: workers.pool.ready,
    stats: () => ({ ...workers.pool.stats(), inFlight: front.inFlight }),
    openConnections,
    workerIds: () => workers.pool.workerIds(),
    threads: workers.threads,
    sockets,
  };
}
