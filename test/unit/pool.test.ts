// The local host's worker pool (host/pool.mjs) on its own: queue, queue limit and wait, abort, the guard
// timeout, replacement of failed workers and the bound on failed starts — driven by fake worker threads on
// vitest's fake timers, so every case runs in milliseconds and every time is exact.

import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { PoolError, WorkerPool, type WorkRequest } from '../../host/pool.mjs';

/** A stand-in for a worker thread: the test says when it is ready, what it answers, and when it dies. */
class FakeThread extends EventEmitter {
  static nextId = 1;
  readonly threadId = FakeThread.nextId++;
  readonly received: { id: number; url: string }[] = [];
  terminated = false;

  postMessage(message: { id: number; url: string }): void {
    this.received.push(message);
  }
  terminate(): Promise<number> {
    this.terminated = true;
    queueMicrotask(() => this.emit('exit', 1));
    return Promise.resolve(1);
  }
  ready(): void {
    this.emit('message', { ready: true });
  }
  /** Never loads its component: a worker start that failed. */
  failStart(): void {
    this.emit('error', new Error('cannot load the component'));
    this.emit('exit', 1);
  }
  /** Answers the request it holds (the last one posted) with `status`. */
  answer(status = 200, id = this.received.at(-1)!.id): void {
    this.emit('message', { id, status, headers: [['x-thread', String(this.threadId)]], body: new TextEncoder().encode('ok') });
  }
  crash(): void {
    this.emit('exit', 1);
  }
}

const request = (url = '/'): WorkRequest => ({ method: 'GET', url, authority: 'test', rawHeaders: [], body: new Uint8Array() });

/** A pool on fake threads; `threads` lists every thread it started, in order. */
function fakePool(options: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}) {
  const threads: FakeThread[] = [];
  const lines: string[] = [];
  const pool = new WorkerPool({
    size: 1,
    log: (line) => lines.push(line),
    ...options,
    startThread: () => {
      const thread = new FakeThread();
      threads.push(thread);
      return thread;
    },
  });
  // Pools whose first workers all fail to start reject `ready`; the tests look at the threads instead.
  pool.ready.catch(() => {});
  return { pool, threads, lines, last: () => threads.at(-1)! };
}

/** A one-worker fake pool whose worker is ready. */
async function readyPool(options: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}) {
  const fake = fakePool(options);
  fake.last().ready();
  await fake.pool.ready;
  return fake;
}

/** The PoolError `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<PoolError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PoolError)) throw new Error(`expected a PoolError, got ${String(error)}`);
  return error;
}

describe('WorkerPool', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test('starts `size` threads and hands a request to an idle one', async () => {
    const { pool, threads } = fakePool({ size: 3 });
    expect(threads).toHaveLength(3);
    threads.forEach((t) => t.ready());
    await pool.ready;
    expect(pool.stats()).toEqual({ workers: 3, idle: 3, queued: 0 });
    const reply = pool.run(request('/a'));
    const busy = threads.find((t) => t.received.length === 1)!;
    expect(busy.received.map((m) => m.url)).toEqual(['/a']);
    expect(pool.stats()).toEqual({ workers: 3, idle: 2, queued: 0 });
    busy.answer(201);
    expect(await reply).toMatchObject({ status: 201, headers: [['x-thread', String(busy.threadId)]] });
    expect(pool.stats().idle).toBe(3);
  });

  test('requests beyond the idle workers wait in order and go to the next worker that is free', async () => {
    const { pool, last } = await readyPool();
    const first = pool.run(request('/1'));
    const second = pool.run(request('/2'));
    const third = pool.run(request('/3'));
    expect(pool.stats()).toEqual({ workers: 1, idle: 0, queued: 2 });
    expect(last().received.map((m) => m.url)).toEqual(['/1']);
    last().answer();
    await first;
    expect(last().received.map((m) => m.url)).toEqual(['/1', '/2']);
    last().answer();
    last().answer();
    await Promise.all([second, third]);
    expect(last().received.map((m) => m.url)).toEqual(['/1', '/2', '/3']);
    expect(pool.stats()).toEqual({ workers: 1, idle: 1, queued: 0 });
  });

  test('a request beyond QUEUE_LIMIT is refused host-busy at once, with retry-after', async () => {
    const { pool } = await readyPool({ queueLimit: 1 });
    void pool.run(request());
    void pool.run(request());
    const refused = await rejection(pool.run(request()));
    expect([refused.code, refused.status, refused.headers]).toEqual(['host-busy', 503, { 'retry-after': '1' }]);
    expect(pool.stats().queued).toBe(1);
  });

  test('a queued request leaves the queue host-busy exactly when QUEUE_WAIT_MS has passed', async () => {
    const { pool } = await readyPool({ queueWaitMs: 250 });
    void pool.run(request());
    let settled = false;
    const waiting = rejection(pool.run(request())).finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(249);
    expect([settled, pool.stats().queued]).toEqual([false, 1]);
    await vi.advanceTimersByTimeAsync(1);
    const error = await waiting;
    expect(error.code).toBe('host-busy');
    expect(error.message).toContain('waited 250 ms (QUEUE_WAIT_MS)');
    expect(pool.stats().queued).toBe(0);
  });

  test('an aborted signal takes a queued request out of the queue; the worker never sees it', async () => {
    const { pool, last } = await readyPool();
    const first = pool.run(request('/held'));
    const gone = new AbortController();
    const queued = pool.run(request('/gone'), gone.signal);
    gone.abort();
    expect((await rejection(queued)).code).toBe('host-closing');
    expect(pool.stats().queued).toBe(0);
    last().answer();
    await first;
    expect(last().received.map((m) => m.url)).toEqual(['/held']);
    expect(pool.stats().idle).toBe(1);
  });

  test('a request the worker holds longer than guardMs is answered host-timeout and its worker replaced at once', async () => {
    const { pool, threads, lines } = fakePool({ guardMs: 1_000 });
    threads[0]!.ready();
    await pool.ready;
    const stuck = rejection(pool.run(request('/stuck')));
    await vi.advanceTimersByTimeAsync(999);
    expect(threads[0]!.terminated).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await stuck).code).toBe('host-timeout');
    expect(threads[0]!.terminated).toBe(true);
    expect(threads).toHaveLength(2);
    expect(lines.join('\n')).toContain('GET /stuck took longer than 1000 ms');
    threads[1]!.ready();
    await vi.advanceTimersByTimeAsync(0);
    const next = pool.run(request('/next'));
    threads[1]!.answer();
    expect((await next).status).toBe(200);
  });

  test.each([
    ['answers another request\'s id', (t: FakeThread) => t.answer(200, t.received.at(-1)!.id + 1)],
    ['reports the component failed', (t: FakeThread) => t.emit('message', { id: t.received.at(-1)!.id, failed: 'trap' })],
    ['ends while handling it', (t: FakeThread) => t.crash()],
  ])('a worker that %s: the request gets component-failed and the worker is replaced at once', async (_, misbehave) => {
    const { pool, threads } = fakePool();
    threads[0]!.ready();
    await pool.ready;
    const reply = pool.run(request());
    misbehave(threads[0]!);
    expect((await rejection(reply)).code).toBe('component-failed');
    await vi.advanceTimersByTimeAsync(0);
    expect(threads).toHaveLength(2);
    expect(pool.stats().workers).toBe(1);
  });

  test('a worker that failed to start is retried after failedStartRetryMs, at most twice the pool size in a row', async () => {
    const { pool, threads } = fakePool({ failedStartRetryMs: 100 });
    threads[0]!.failStart();
    expect(threads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(threads).toHaveLength(2);
    threads[1]!.failStart();
    await vi.advanceTimersByTimeAsync(100);
    threads[2]!.failStart();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(threads).toHaveLength(3);
    expect(pool.stats().workers).toBe(0);
  });

  test('the failed starts counted are those in a row: after a worker started, a failed start is retried again', async () => {
    const { pool, threads } = fakePool({ failedStartRetryMs: 100 });
    // Two failed starts, then one that serves: the pool is healthy again.
    threads[0]!.failStart();
    await vi.advanceTimersByTimeAsync(100);
    threads[1]!.failStart();
    await vi.advanceTimersByTimeAsync(100);
    threads[2]!.ready();
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.stats()).toEqual({ workers: 1, idle: 1, queued: 0 });
    // It dies later (replaced at once), and the replacement fails to start: a third failed start over the
    // pool's life, but the first in a row, so it is retried.
    threads[2]!.crash();
    expect(threads).toHaveLength(4);
    threads[3]!.failStart();
    await vi.advanceTimersByTimeAsync(100);
    expect(threads).toHaveLength(5);
    threads[4]!.ready();
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.stats()).toEqual({ workers: 1, idle: 1, queued: 0 });
  });

  test('refuse() answers every queued request host-closing and takes no new ones; close() stops every thread', async () => {
    const { pool, last } = await readyPool();
    const inFlight = pool.run(request('/in-flight'));
    const queued = pool.run(request('/queued'));
    pool.refuse();
    expect((await rejection(queued)).code).toBe('host-closing');
    expect((await rejection(pool.run(request()))).code).toBe('host-closing');
    last().answer();
    expect((await inFlight).status).toBe(200);
    await pool.close();
    expect(last().terminated).toBe(true);
  });
});
