// The local host: a pool of worker threads, each holding a reused component instance, behind one HTTP server.
// Requests go to idle workers and wait in a bounded queue when all are busy, so a silent peer holds
// only its own request. No handler logic lives here: every request is answered by the component.

import http from 'node:http';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { answerClientError, collectBody, maxBodyBytes, maxHeadBytes } from './request-limits.mjs';
import { componentEnvironment } from './settings.mjs';
import { transpiled } from './transpile-cache.mjs';

/** Pool settings, their defaults and bounds (read from the host's own environment by start.mjs). */
export const POOL_SETTINGS = {
  poolSize: { name: 'POOL_SIZE', defaultValue: Math.min(16, Math.max(4, availableParallelism() * 4)), min: 1, max: 64 },
  queueLimit: { name: 'QUEUE_LIMIT', defaultValue: 512, min: 0, max: 100_000 },
};

/**
 * A request longer than this is abandoned and its worker replaced: the component's own deadlines
 * (120 s at most, plus connect) end every request well before, so this only catches a stuck worker.
 */
const WORKER_GUARD_MS = 190_000;

function jsonError(res, status, code, message, headers = {}) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify({ error: { code, message } }));
}

class PoolWorker {
  /** @param {{entry: string, env: Record<string,string>}} data */
  constructor(data, onExit) {
    this.dead = false;
    this.wasReady = false;
    /** The request this worker is handling: at most one, since the component blocks while it works. */
    this.current = undefined;
    this.thread = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: data });
    this.ready = new Promise((resolve, reject) => {
      this.thread.once('message', () => {
        this.wasReady = true;
        this.thread.on('message', (reply) => this.current?.(reply));
        resolve(this);
      });
      this.thread.once('error', reject);
    });
    this.thread.on('error', (error) => console.error('ai-agent-sockets host: worker failed:', error));
    this.thread.once('exit', () => {
      this.dead = true;
      this.current?.({ failed: 'the worker ended while handling this request' });
      onExit(this);
    });
  }
  stop() {
    this.dead = true;
    return this.thread.terminate();
  }
}

/**
 * Starts the host. Resolves once the server listens; requests that arrive before the first worker is
 * ready wait in the queue.
 * @param {{ componentPath: string, port?: number, host?: string, env?: Record<string,string|undefined>, poolSize?: number, queueLimit?: number }} options
 */
export async function startServer({ componentPath, port = 0, host = '127.0.0.1', env = {}, poolSize, queueLimit }) {
  const size = poolSize ?? POOL_SETTINGS.poolSize.defaultValue;
  const maxQueued = queueLimit ?? POOL_SETTINGS.queueLimit.defaultValue;
  const { entry } = await transpiled(componentPath);
  const data = { entry: new URL(`file://${entry}`).href, env: componentEnvironment(env) };
  const headLimit = maxHeadBytes(data.env);
  const bodyLimit = maxBodyBytes(data.env);

  const workers = new Set();
  const idle = [];
  const queue = [];
  let closing = false;

  let failedStarts = 0;
  const spawn = () => {
    const worker = new PoolWorker(data, (gone) => {
      workers.delete(gone);
      const i = idle.indexOf(gone);
      if (i !== -1) idle.splice(i, 1);
      if (closing) return;
      // A worker that served and then died (a trap) is replaced at once; one that never loaded the
      // component is retried slowly and a few times only, so a broken build cannot spin the CPU.
      if (gone.wasReady) spawn();
      else if (++failedStarts <= size * 2) setTimeout(spawn, 1_000).unref();
    });
    workers.add(worker);
    worker.ready.then(release, () => {});
  };

  function release(worker) {
    if (worker.dead) return;
    const next = queue.shift();
    if (next) run(worker, next);
    else idle.push(worker);
  }

  let nextId = 0;
  function run(worker, { req, res, body, overflow }) {
    const id = ++nextId;
    const finish = () => {
      clearTimeout(guard);
      worker.current = undefined;
      release(worker);
    };
    const guard = setTimeout(() => {
      worker.current = undefined;
      jsonError(res, 504, 'host-timeout', 'the component did not answer in time; its worker was replaced');
      worker.stop();
    }, WORKER_GUARD_MS);
    worker.current = (reply) => {
      if (reply.id !== undefined && reply.id !== id) return;
      // A worker that reports a failure is ending (its instance trapped): never hand it another request.
      if (reply.failed !== undefined) worker.dead = true;
      finish();
      if (reply.failed !== undefined) {
        console.error(`ai-agent-sockets host: ${req.method} ${req.url.slice(0, 200)} failed in the component: ${reply.failed}`);
        return jsonError(res, 502, 'component-failed', 'the component failed while handling this request; its worker was replaced');
      }
      if (res.destroyed) return;
      const headers = {};
      for (const [name, value] of reply.headers) {
        // Node frames the body itself; a component's framing headers would conflict with it.
        if (name === 'content-length' || name === 'transfer-encoding') continue;
        headers[name] = headers[name] === undefined ? value : [headers[name], value].flat();
      }
      headers['content-length'] = String(reply.body.length);
      // A body that was not read to its end cannot be followed by another request on this connection.
      if (overflow) headers.connection = 'close';
      try {
        res.writeHead(reply.status, headers);
      } catch (error) {
        // A status or header Node cannot send must not take the whole host down.
        return jsonError(res, 502, 'component-failed', `the component's response could not be sent (${error.code ?? error.message})`);
      }
      res.end(reply.body);
    };
    worker.thread.postMessage({ id, method: req.method, url: req.url, authority: req.headers.host ?? '', rawHeaders: req.rawHeaders, body }, [body.buffer]);
  }

  const server = http.createServer({ maxHeaderSize: headLimit }, async (req, res) => {
    if (closing) return jsonError(res, 503, 'host-closing', 'the server is shutting down', { connection: 'close' });
    // The body arrives before a worker is taken: a slow upload holds its connection, never a worker.
    const { body, overflow } = await collectBody(req, bodyLimit);
    if (closing) return jsonError(res, 503, 'host-closing', 'the server is shutting down', { connection: 'close' });
    const worker = idle.pop();
    if (worker) return run(worker, { req, res, body, overflow });
    if (queue.length >= maxQueued) {
      return jsonError(res, 503, 'host-busy', `all ${size} workers are busy and ${maxQueued} requests are queued; retry shortly`, {
        'retry-after': '1',
      });
    }
    queue.push({ req, res, body, overflow });
    res.on('close', () => {
      const i = queue.findIndex((item) => item.res === res);
      if (i !== -1) queue.splice(i, 1);
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (error, socket) => answerClientError(error, socket, headLimit));

  for (let i = 0; i < size; i++) spawn();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then stops the workers. */
  async function close(graceMs = 10_000) {
    if (closing) return;
    closing = true;
    for (const { res } of queue.splice(0)) jsonError(res, 503, 'host-closing', 'the server is shutting down');
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    await Promise.all([...workers].map((w) => w.stop()));
  }

  return {
    url,
    port: address.port,
    close,
    /** Resolves when at least one worker can take requests. */
    ready: Promise.any([...workers].map((w) => w.ready)),
    stats: () => ({ workers: workers.size, idle: idle.length, queued: queue.length }),
    threadIds: () => [...workers].map((w) => w.thread.threadId),
  };
}
