// The local host: a pool of worker threads, each holding a reused component instance, behind one HTTP server.
// Requests go to idle workers and wait in a bounded queue when all are busy, so a silent peer holds
// only its own request. No handler logic lives here: every request is answered by the component.

import http from 'node:http';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
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
    this.busy = false;
    this.dead = false;
    this.thread = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: data });
    this.ready = new Promise((resolve, reject) => {
      this.thread.once('message', ({ port }) => {
        this.port = port;
        this.wasReady = true;
        this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        resolve(this);
      });
      this.thread.once('error', reject);
    });
    this.thread.on('error', (error) => console.error('ai-agent-sockets host: worker failed:', error));
    this.thread.once('exit', () => {
      this.dead = true;
      this.agent?.destroy();
      onExit(this);
    });
  }
  stop() {
    this.dead = true;
    this.agent?.destroy();
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
    worker.busy = false;
    const next = queue.shift();
    if (next) run(worker, next);
    else idle.push(worker);
  }

  function run(worker, { req, res }) {
    worker.busy = true;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(guard);
      release(worker);
    };
    const guard = setTimeout(() => {
      done = true;
      jsonError(res, 504, 'host-timeout', 'the component did not answer in time; its worker was replaced');
      worker.stop();
    }, WORKER_GUARD_MS);
    const upstream = http.request(
      { host: '127.0.0.1', port: worker.port, method: req.method, path: req.url, headers: req.headers, agent: worker.agent },
      (reply) => {
        // The worker is free once the component's reply is fully read, whether or not the client still listens.
        reply.on('end', finish);
        reply.on('error', () => {
          res.destroy();
          finish();
        });
        res.on('close', () => reply.resume());
        if (res.destroyed) return void reply.resume();
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (done) return;
      jsonError(res, 502, 'component-failed', `the component failed while handling this request (${error.code ?? error.message})`);
      // A worker whose connection broke may be unusable: replace it rather than guess.
      done = true;
      clearTimeout(guard);
      worker.stop();
    });
    req.pipe(upstream);
  }

  const server = http.createServer((req, res) => {
    if (closing) return jsonError(res, 503, 'host-closing', 'the server is shutting down', { connection: 'close' });
    const worker = idle.pop();
    if (worker) return run(worker, { req, res });
    if (queue.length >= maxQueued) {
      return jsonError(res, 503, 'host-busy', `all ${size} workers are busy and ${maxQueued} requests are queued; retry shortly`, {
        'retry-after': '1',
      });
    }
    queue.push({ req, res });
    res.on('close', () => {
      const i = queue.findIndex((item) => item.res === res);
      if (i !== -1) queue.splice(i, 1);
    });
  });
  server.keepAliveTimeout = 5_000;

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
