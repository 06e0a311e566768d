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
 * The component to run and how: its file, its settings (`env`, of which it sees only its own), where workers
 * make socket calls, where their log lines go, and the stand-ins tests give (see startServer).
 * @typedef {{
 *   componentPath: string,
 *   env?: Record<string, string | undefined>,
 *   log?: (line: string) => void,
 *   workerUrl?: URL,
 *   imports?: Record<string, string>,
 *   importsData?: unknown,
 *   transpileCacheDir?: string,
 *   sockets?: 'worker' | 'io-thread',
 * }} ComponentOptions
 */

/**
 * Starts `size` workers of the component with `env` as its whole environment. With sockets on the workers' own
 * threads, one thread runs several instances at once: one thread per core, the workers (one instance each)
 * spread over them. A worker standing in for the real one (`workerUrl`) keeps a thread each.
 * @param {{
 *   transpiled: { entry: string, engine: string },
 *   inThread: boolean,
 *   env: Record<string, string>,
 *   size: number,
 *   threads: number,
 *   queueLimit?: number,
 *   queueWaitMs?: number,
 *   log?: (line: string) => void,
 *   workerUrl?: URL,
 *   imports?: Record<string, string>,
 *   importsData?: unknown,
 *   instanceMemoryLimitBytes?: number,
 * }} options
 */
function startWorkers({ transpiled: { entry, engine }, inThread, env, size, threads, queueLimit, queueWaitMs, log, workerUrl, imports, importsData, instanceMemoryLimitBytes }) {
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
 * @returns {Promise<string | undefined>}
 */
export async function settingsProblem({ componentPath, env = {}, log, workerUrl, imports, importsData, transpileCacheDir, sockets = socketsMode(undefined) }) {
  const inThread = sockets === 'worker';
  const transpiled = await transpiledWithEngine(componentPath, transpileCacheDir, imports, { inThread });
  const workers = startWorkers({ transpiled, inThread, env: componentEnvironment(env), size: 1, threads: 1, log, workerUrl, imports, importsData });
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
 * Starts the host. Resolves once the server listens; requests that arrive before the first worker is
 * ready wait in the queue. Rejects when it cannot listen.
 * @param {ComponentOptions & {
 *   port?: number,
 *   host?: string,
 *   poolSize?: number,
 *   queueLimit?: number,
 *   queueWaitMs?: number,
 *   threads?: number,
 *   instanceMemoryLimitBytes?: number,
 * }} options `log` receives the host's and the workers' log lines (default: stderr). `imports` maps
 * interfaces beyond WASI to modules (see transpiled()); each worker hands `importsData` to them as
 * `workerData.importsData`. `transpileCacheDir` replaces the transpile cache's directory (.cache/transpiled).
 * `sockets` says where workers make socket calls (see socketsMode(); default: `worker` where Node has JSPI);
 * with `worker`, the pool's workers share `threads` threads (default: one per core, at most one per worker).
 * The component sees `env`'s settings, and OWN_ADDRESSES extended by every address the server answers at.
 * `instanceMemoryLimitBytes`: the linear memory at which an instance is replaced by a fresh one (host/worker.mjs; tests lower it).
 * @returns {Promise<LocalHost>}
 */
export async function startServer({ componentPath, port = 0, host = '127.0.0.1', env = {}, poolSize, queueLimit, queueWaitMs, log, workerUrl, imports, importsData, transpileCacheDir, sockets = socketsMode(undefined), threads = availableParallelism(), instanceMemoryLimitBytes }) {
  const inThread = sockets === 'worker';
  const transpiled = await transpiledWithEngine(componentPath, transpileCacheDir, imports, { inThread });
  const componentEnv = componentEnvironment(env);
  const headLimit = maxHeadBytes(componentEnv);
  const bodyLimit = maxBodyBytes(componentEnv);
  const size = poolSize ?? POOL_SETTINGS.poolSize.defaultValue;
  const hostLog = log ?? console.error;
  /** @type {ReturnType<typeof startWorkers>} Started as soon as the server is bound (see below). */
  let workers;
  let closing = false;
  /**
   * Requests between arrival and answer: with their bodies being read, queued, or in a worker. At most the pool's
   * capacity (POOL_SIZE + QUEUE_LIMIT), so the bodies held are at most that many times the body cap (README).
   */
  let inFlight = 0;

  const server = http.createServer({ maxHeaderSize: headLimit }, (req, res) => {
    handle(req, res).catch((error) => {
      // Anything but a pool error is the host's own fault: say so to this client, log it, keep serving the others.
      hostLog(`ai-agent-sockets host: ${req.method} ${(req.url ?? '').slice(0, 200)} failed in the host: ${error?.stack ?? error}`);
      jsonError(res, 'internal', 'the host failed while handling this request');
    });
  });

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  async function handle(req, res) {
    if (closing) return jsonError(res, 'host-closing', 'the server is shutting down', { connection: 'close' });
    if (inFlight >= workers.pool.capacity) {
      // Refused before its body is read: the body is discarded as it arrives, never kept.
      refuse(res, workers.pool.full());
      drainAfterAnswer(req);
      return;
    }
    inFlight++;
    try {
      await answer(req, res);
    } finally {
      inFlight--;
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
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  async function answer(req, res) {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    // The body arrives before a worker is taken: a slow upload holds its connection, never a worker.
    const collected = await collectBody(req, bodyLimit);
    // A client that left before its body ended gets nothing done for it: no part of a body reaches a peer.
    if (collected === undefined || gone.signal.aborted) return;
    if (closing) return jsonError(res, 'host-closing', 'the server is shutting down', { connection: 'close' });
    const request = { method: req.method ?? 'GET', url: req.url ?? '/', authority: req.headers.host ?? '', rawHeaders: req.rawHeaders, body: collected.body };
    try {
      writeReply(res, await workers.pool.run(request, gone.signal));
      // The rest of a body too long to read is drained after the answer, so the client reads the answer.
      if (collected.overflow) drainAfterAnswer(req);
    } catch (error) {
      if (!(error instanceof PoolError)) throw error;
      refuse(res, error);
    }
  }
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  /** @type {Set<import('node:net').Socket>} */
  const connections = new Set();
  server.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  server.on('clientError', (error, socket) => answerClientError(error, socket, headLimit));

  const address = await listen(server, port, host);
  // The workers read their settings once, when they start, and OWN_ADDRESSES needs the bound port (PORT=0
  // too): so they start here, right after the 'listening' event and before any I/O callback can read a request.
  try {
    workers = startWorkers({ transpiled, inThread, env: withOwnAddresses(componentEnv, address), size, threads, queueLimit, queueWaitMs, log, workerUrl, imports, importsData, instanceMemoryLimitBytes });
  } catch (error) {
    server.close();
    throw error;
  }
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  /** @param {number} [graceMs] */
  async function close(graceMs = CLOSE_GRACE_MS) {
    if (closing) return;
    closing = true;
    workers.pool.refuse();
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    await workers.close();
  }

  return {
    url,
    port: address.port,
    close,
    ready: workers.pool.ready,
    stats: () => ({ ...workers.pool.stats(), inFlight }),
    openConnections: () => connections.size,
    workerIds: () => workers.pool.workerIds(),
    threads: workers.threads,
    sockets,
  };
}
