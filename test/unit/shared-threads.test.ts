// host/shared-threads.mjs with real worker threads running a stand-in worker (test/fixtures/slot-worker.mjs):
// slots share threads, messages reach their own slot, a slot lets go without its thread, and a slot stuck in a
// loop ends its whole thread (and its siblings with it).

import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { SharedThreads } from '../../host/shared-threads.mjs';

const workerUrl = new URL('../fixtures/slot-worker.mjs', import.meta.url);
let shared: SharedThreads | undefined;
afterEach(async () => {
  await shared?.close();
  shared = undefined;
});

const threads = (slotsPerThread: number, workerData: object = {}) =>
  (shared = new SharedThreads({ workerUrl, workerData, slotsPerThread, log: () => {} }));

/** The slot's first message: `{ ready: true }` once its instance exists. */
const firstMessage = (slot: ReturnType<SharedThreads['start']>) => once(slot, 'message').then(([message]) => message as Record<string, unknown>);

describe('SharedThreads', () => {
  test('fills a thread up to its slots before starting another, and each message reaches its own slot', async () => {
    const pool = threads(2);
    const [a, b, c] = [pool.start(), pool.start(), pool.start()];
    expect(await Promise.all([a, b, c].map(firstMessage))).toEqual([{ ready: true }, { ready: true }, { ready: true }]);
    expect(pool.threads).toBe(2);
    expect(a.threadId).toBe(b.threadId);
    expect(c.threadId).not.toBe(a.threadId);
    const answered = once(b, 'message');
    b.postMessage({ id: 7, url: '/x' });
    expect((await answered)[0]).toMatchObject({ id: 7, status: 200, headers: [['x-slot', '1']] });
  });

  test('a slot that lets go leaves its thread running, and the next slot takes its place there', async () => {
    const pool = threads(2);
    const a = pool.start();
    const b = pool.start();
    await Promise.all([a, b].map(firstMessage));
    const exited = once(a, 'exit');
    await a.terminate();
    await exited;
    expect(pool.threads).toBe(1);
    const c = pool.start();
    expect(await firstMessage(c)).toEqual({ ready: true });
    expect(c.threadId).toBe(b.threadId);
    expect(pool.threads).toBe(1);
  });

  test('a slot stuck in a loop cannot let go: its whole thread is ended, and every slot on it exits', async () => {
    const pool = threads(2);
    const a = pool.start();
    const b = pool.start();
    await Promise.all([a, b].map(firstMessage));
    a.postMessage({ id: 1, url: '/spin' });
    const exits = Promise.all([once(a, 'exit'), once(b, 'exit')]);
    await a.terminate();
    await exits;
    expect(pool.threads).toBe(0);
  });

  test('a slot whose instance cannot start reports an error, then exits', async () => {
    const pool = threads(1, { failStart: true });
    const a = pool.start();
    const failed = new Promise<Error>((resolve) => a.once('error', resolve));
    const exited = new Promise((resolve) => a.once('exit', resolve));
    expect((await failed).message).toBe('this slot cannot start');
    await exited;
  });

  test('close ends every thread', async () => {
    const pool = threads(1);
    const slots = [pool.start(), pool.start()];
    await Promise.all(slots.map(firstMessage));
    const exits = Promise.all(slots.map((s) => once(s, 'exit')));
    await pool.close();
    await exits;
    expect(pool.threads).toBe(0);
  });
});
