// The worker pool of the local host: workers that each hold one reused component instance (a thread each, or a
// slot on a thread shared with others: host/shared-threads.mjs), a bounded queue with a wait limit, and
// replacement of any worker that failed. It knows nothing of HTTP.

import { ERROR_STATUS } from '../src/core/error-codes.js';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';

/**
 * @typedef {{ name: string, defaultValue: number, min: number, max: number }} Setting
 * @typedef {{ method: string, url: string, authority: string, rawHeaders: string[], body: Uint8Array }} WorkRequest
 * @typedef {{ status: number, headers: [string, string][], body: Uint8Array }} WorkReply
 * @typedef {{ id?: number, failed?: string, retiring?: true } & Partial<WorkReply>} WorkerMessage `retiring`: the worker ends
 * after this reply (its instance outgrew its memory limit, host/worker.mjs) and takes no further request.
 * @typedef {{ request: WorkRequest, resolve: (reply: WorkReply) => void, reject: (error: Error) => void, timer?: NodeJS.Timeout }} Job
 */

/** Pool settings, their defaults and bounds (read from the host's own environment by start.mjs). */
export const POOL_SETTINGS = {
  /** @type {Setting} */
  poolSize: { name: 'POOL_SIZE', defaultValue: Math.min(16, Math.max(4, availableParallelism() * 4)), min: 1, max: 64 },
  /** @type {Setting} */
  queueLimit: { name: 'QUEUE_LIMIT', defaultValue: 512, min: 0, max: 100_000 },
  /** @type {Setting} */
  queueWaitMs: { name: 'QUEUE_WAIT_MS', defaultValue: 30_000, min: 1, max: 600_000 },
};

/**
 * A request longer than this is abandoned and its worker replaced: the component's own deadlines
 * (120 s at most, plus connect) end every request well before, so this only catches a stuck worker.
 */
const WORKER_GUARD_MS = 190_000;

/** How long to wait before retrying a worker that never loaded the component, so a broken build cannot spin the CPU. */
const FAILED_START_RETRY_MS = 1_000;

/**
 * What the pool needs of a worker thread (node:worker_threads' Worker has it; pool tests pass a fake).
 * @typedef {{
 *   threadId: number,
 *   stderr?: import('node:stream').Readable | null,
 *   stdout?: import('node:stream').Readable | null,
 *   postMessage(message: unknown, transfer?: ArrayBuffer[]): void,
 *   terminate(): Promise<unknown>,
 *   on(event: string, listener: (value: any) => void): unknown,
 *   once(event: string, listener: (value: any) => void): unknown,
 * }} WorkerThread
 */

/** Why the pool gave no reply: a stable code and the HTTP status the front end answers with. */
export class PoolError extends Error {
  /**
   * @param {'host-busy' | 'host-timeout' | 'host-closing' | 'component-failed'} code
   * @param {string} message
   * @param {Record<string, string>} [headers]
   */
  constructor(code, message, headers = {}) {
    super(message);
    this.name = 'PoolError';
    this.code = code;
    /** The status the one error table gives the code. */
    this.status = ERROR_STATUS[code];
    this.headers = headers;
  }
}

let nextWorkerId = 0;

class PoolWorker {
  /** A number of its own: a replacement has another, whether or not it runs on the same thread. */
  id = ++nextWorkerId;
  /**
   * @param {() => WorkerThread} startThread
   * @param {(line: string) => void} log
   * @param {(worker: PoolWorker) => void} onExit
   */
  constructor(startThread, log, onExit) {
    this.dead = false;
    this.wasReady = false;
    /** The request this worker is handling: at most one, since an instance handles one request at a time. */
    /** @type {{ id: number, onReply: (message: WorkerMessage) => void } | undefined} */
    this.job = undefined;
    // The worker's output (the component's own, a trap's stack) goes to the pool's log, not straight to the terminal;
    // its stdout too, since the host's stdout may be a protocol stream (MCP over stdio) that only the host writes.
    this.thread = startThread();
    for (const output of [this.thread.stderr, this.thread.stdout]) if (output) createInterface({ input: output }).on('line', log);
    /** @type {Promise<PoolWorker>} */
    this.ready = new Promise((resolve, reject) => {
      this.thread.once('message', () => {
        this.wasReady = true;
        this.thread.on('message', (/** @type {WorkerMessage} */ message) => this.job?.onReply(message));
        resolve(this);
      });
      this.thread.once('error', reject);
    });
    this.ready.catch(() => {});
    this.thread.on('error', (error) => log(`ai-agent-sockets host: worker failed: ${error?.stack ?? error}`));
    this.thread.once('exit', () => {
      this.dead = true;
      if (this.job) this.job.onReply({ id: this.job.id, failed: 'the worker ended while handling this request' });
      onExit(this);
    });
  }

  stop() {
    this.dead = true;
    return this.thread.terminate();
  }
}

/** A pool of component instances, one per worker; `run` hands a request to an idle one or queues it. */
export class WorkerPool {
  /** @type {Set<PoolWorker>} */
  #workers = new Set();
  /** @type {PoolWorker[]} */
  #idle = [];
  /** @type {Job[]} */
  #queue = [];
  #closing = false;
  #failedStarts = 0;
  #nextId = 0;

  /**
   * @param {{
   *   workerData?: unknown,
   *   size?: number,
   *   queueLimit?: number,
   *   queueWaitMs?: number,
   *   guardMs?: number,
   *   failedStartRetryMs?: number,
   *   workerUrl?: URL,
   *   startThread?: () => WorkerThread,
   *   log?: (line: string) => void,
   * }} options `workerUrl` replaces host/worker.mjs (tests use it to stand in a misbehaving worker);
   * `startThread` replaces the worker thread itself (the pool's own tests drive a fake one).
   */
  constructor({
    workerData,
    size = POOL_SETTINGS.poolSize.defaultValue,
    queueLimit = POOL_SETTINGS.queueLimit.defaultValue,
    queueWaitMs = POOL_SETTINGS.queueWaitMs.defaultValue,
    guardMs = WORKER_GUARD_MS,
    failedStartRetryMs = FAILED_START_RETRY_MS,
    workerUrl = new URL('./worker.mjs', import.meta.url),
    startThread = () => new Worker(workerUrl, { workerData, stderr: true, stdout: true }),
    log = console.error,
  }) {
    this.size = size;
    this.queueLimit = queueLimit;
    this.queueWaitMs = queueWaitMs;
    this.guardMs = guardMs;
    this.failedStartRetryMs = failedStartRetryMs;
    this.startThread = startThread;
    this.log = log;
    for (let i = 0; i < size; i++) this.#spawn();
    /** Resolves when at least one worker can take requests. */
    this.ready = Promise.any([...this.#workers].map((w) => w.ready)).then(() => {});
  }

  #spawn() {
    const worker = new PoolWorker(this.startThread, this.log, (gone) => {
      this.#workers.delete(gone);
      this.#removeIdle(gone);
      if (this.#closing) return;
      // A worker that served and then died is replaced at once; one that never loaded the component is
      // retried slowly, and only twice the pool size times in a row.
      if (gone.wasReady) this.#spawn();
      else if (++this.#failedStarts <= this.size * 2) setTimeout(() => this.#closing || this.#spawn(), this.failedStartRetryMs).unref();
    });
    this.#workers.add(worker);
    worker.ready.then(
      (w) => {
        // Failed starts count only in a row: a worker that loaded shows the component can start again.
        this.#failedStarts = 0;
        this.#release(w);
      },
      () => {},
    );
  }

  /** @param {PoolWorker} worker */
  #removeIdle(worker) {
    const i = this.#idle.indexOf(worker);
    if (i !== -1) this.#idle.splice(i, 1);
  }

  /** Ends a worker that cannot be trusted with another request; its exit starts a replacement. */
  /** @param {PoolWorker} worker */
  #retire(worker) {
    this.#removeIdle(worker);
    void worker.stop();
  }

  /** @param {PoolWorker} worker */
  #release(worker) {
    if (worker.dead || this.#closing) return;
    const next = this.#queue.shift();
    if (!next) {
      this.#idle.push(worker);
      return;
    }
    clearTimeout(next.timer);
    this.#dispatch(worker, next);
  }

  /**
   * @param {PoolWorker} worker
   * @param {Job} job
   */
  #dispatch(worker, { request, resolve, reject }) {
    const id = ++this.#nextId;
    const guard = setTimeout(() => {
      worker.job = undefined;
      this.log(`ai-agent-sockets host: ${describe(request)} took longer than ${this.guardMs} ms; replacing its worker`);
      reject(new PoolError('host-timeout', 'the component did not answer in time; its worker was replaced'));
      this.#retire(worker);
    }, this.guardMs);
    worker.job = {
      id,
      onReply: (message) => {
        clearTimeout(guard);
        worker.job = undefined;
        if (message.id !== id) {
          // A worker out of step with the dispatcher would answer the next request with this one's reply.
          this.log(`ai-agent-sockets host: a worker answered request ${message.id} while handling request ${id}; replacing it`);
          this.#retire(worker);
          return reject(new PoolError('component-failed', "the host's worker answered out of step; it was replaced"));
        }
        if (message.failed !== undefined || message.status === undefined) {
          // A failed instance (trapped, or set no response) cannot be trusted with another request.
          this.log(`ai-agent-sockets host: ${describe(request)} failed in the component: ${message.failed ?? 'no status in the reply'}`);
          this.#retire(worker);
          return reject(new PoolError('component-failed', 'the component failed while handling this request; its worker was replaced'));
        }
        // A retiring worker is not handed another request: its exit starts the replacement.
        if (!message.retiring) this.#release(worker);
        resolve({ status: message.status, headers: message.headers ?? [], body: message.body ?? new Uint8Array() });
      },
    };
    // The body moves to the worker rather than being copied: the front end holds one copy of it, not two.
    worker.thread.postMessage({ id, ...request }, transferable(request.body));
  }

  /**
   * Has a worker's component answer `request`. Rejects with a PoolError when the queue is full, the request
   * waited longer than `queueWaitMs`, or the component failed; `signal` takes a request out of the queue.
   * @param {WorkRequest} request
   * @param {AbortSignal} [signal]
   * @returns {Promise<WorkReply>}
   */
  run(request, signal) {
    return new Promise((resolve, reject) => {
      if (this.#closing) return reject(new PoolError('host-closing', 'the server is shutting down'));
      const worker = this.#idle.pop();
      if (worker) return this.#dispatch(worker, { request, resolve, reject });
      const busy = `all ${this.size} ${plural(this.size, 'worker')} are busy`;
      if (this.#queue.length >= this.queueLimit) return reject(this.full());
      /** @type {Job} */
      const job = { request, resolve, reject };
      const leave = () => {
        const i = this.#queue.indexOf(job);
        if (i === -1) return false;
        this.#queue.splice(i, 1);
        clearTimeout(job.timer);
        return true;
      };
      job.timer = setTimeout(() => {
        if (leave()) reject(new PoolError('host-busy', `${busy}: waited ${this.queueWaitMs} ms (QUEUE_WAIT_MS) for one; retry shortly`, { 'retry-after': '1' }));
      }, this.queueWaitMs);
      signal?.addEventListener('abort', () => leave() && reject(new PoolError('host-closing', 'the client went away')), { once: true });
      this.#queue.push(job);
    });
  }

  /** The refusal when every worker is busy and the queue is full: for the pool, and for a front end that counts its own requests. */
  full() {
    return new PoolError('host-busy', `all ${this.size} ${plural(this.size, 'worker')} are busy and ${this.queueLimit} requests are queued; retry shortly`, { 'retry-after': '1' });
  }

  /** How many requests the pool holds at most: one per worker, and the queue. */
  get capacity() {
    return this.size + this.queueLimit;
  }

  /** Counts for tests and logs. */
  stats() {
    return { workers: this.#workers.size, idle: this.#idle.length, queued: this.#queue.length };
  }

  workerIds() {
    return [...this.#workers].map((w) => w.id);
  }

  /** Takes no more requests and answers every queued one `host-closing`; requests in flight still finish. */
  refuse() {
    this.#closing = true;
    for (const job of this.#queue.splice(0)) {
      clearTimeout(job.timer);
      job.reject(new PoolError('host-closing', 'the server is shutting down'));
    }
  }

  /** Refuses new requests and stops every worker, ending any request in flight. */
  async close() {
    this.refuse();
    await Promise.all([...this.#workers].map((w) => w.stop()));
  }
}

/**
 * @param {number} n
 * @param {string} noun
 */
export function plural(n, noun) {
  return n === 1 ? noun : `${noun}s`;
}

/**
 * The buffer of `body` when it can move to a worker: a whole buffer of its own (a view into Node's shared pool,
 * or into a buffer someone else holds, is copied instead).
 * @param {Uint8Array} body
 * @returns {ArrayBuffer[]}
 */
function transferable(body) {
  const { buffer } = body;
  return buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === buffer.byteLength && buffer.byteLength > 0 ? [buffer] : [];
}

/** @param {WorkRequest} request */
function describe(request) {
  return `${request.method} ${request.url.slice(0, 200)}`;
}
