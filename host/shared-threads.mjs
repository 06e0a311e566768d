// Worker threads shared by several pool workers: with sockets on the worker's own thread (JSPI), one thread runs
// several component instances at once — each suspends while it waits on its sockets — and they share the thread's
// compiled module, which is most of a thread's memory. Each pool worker is a *slot*: one instance on one of these
// threads, with the interface the pool expects of a thread (host/pool.mjs, WorkerThread).

import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';

/** How long a slot's thread has to confirm it let an instance go before the whole thread is ended. */
const STOP_ACK_MS = 1_000;

/**
 * @typedef {{ worker: Worker, slots: Map<number, Slot>, nextSlot: number }} Thread
 */

/** One instance on a shared thread, as the pool sees a worker thread. */
class Slot extends EventEmitter {
  /** There is no stderr or stdout per slot: the thread's go to the log once. */
  stderr = null;
  stdout = null;
  /** @type {(() => void) | undefined} */
  #stopped;

  /**
   * @param {Thread} thread
   * @param {number} slot
   * @param {number} threadId
   */
  constructor(thread, slot, threadId) {
    super();
    this.thread = thread;
    this.slot = slot;
    this.threadId = threadId;
  }

  /**
   * @param {object} message
   * @param {ArrayBuffer[]} [transfer]
   */
  postMessage(message, transfer = []) {
    this.thread.worker.postMessage({ slot: this.slot, ...message }, transfer);
  }

  /** Lets the instance go; ends the whole thread when it does not answer (an instance stuck in a loop). */
  terminate() {
    if (!this.thread.slots.has(this.slot)) return Promise.resolve(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => void this.thread.worker.terminate(), STOP_ACK_MS);
      this.#stopped = () => {
        clearTimeout(timer);
        resolve(0);
      };
      this.postMessage({ stop: true });
    });
  }

  /** The thread confirmed the instance is gone, or the thread itself ended. */
  gone() {
    this.thread.slots.delete(this.slot);
    this.#stopped?.();
    this.emit('exit', 0);
  }
}

export class SharedThreads {
  /** @type {Thread[]} */
  #threads = [];

  /**
   * @param {{ workerUrl: URL, workerData: unknown, slotsPerThread: number, log: (line: string) => void }} options
   */
  constructor({ workerUrl, workerData, slotsPerThread, log }) {
    this.workerUrl = workerUrl;
    this.workerData = workerData;
    this.slotsPerThread = slotsPerThread;
    this.log = log;
  }

  /** A slot on a thread with room, starting a thread when none has: the pool's `startThread`. */
  start() {
    const thread = this.#threads.find((t) => t.slots.size < this.slotsPerThread) ?? this.#startThread();
    const slot = new Slot(thread, thread.nextSlot++, thread.worker.threadId);
    thread.slots.set(slot.slot, slot);
    slot.postMessage({ start: true });
    return slot;
  }

  /** @returns {Thread} */
  #startThread() {
    // stdout is captured too: the host's own stdout may carry a protocol (MCP over stdio) that only the host writes.
    const worker = new Worker(this.workerUrl, { workerData: this.workerData, stderr: true, stdout: true });
    /** @type {Thread} */
    const thread = { worker, slots: new Map(), nextSlot: 0 };
    this.#threads.push(thread);
    for (const output of [worker.stderr, worker.stdout]) createInterface({ input: output }).on('line', this.log);
    worker.on('message', (/** @type {{ slot: number, stopped?: true, startFailed?: string }} */ { slot, ...message }) => {
      const owner = thread.slots.get(slot);
      if (!owner) return;
      if (message.stopped) return owner.gone();
      if (message.startFailed !== undefined) {
        owner.emit('error', new Error(message.startFailed));
        return owner.gone();
      }
      owner.emit('message', message);
    });
    worker.on('error', (error) => {
      for (const slot of thread.slots.values()) slot.emit('error', error);
    });
    worker.once('exit', () => {
      this.#threads.splice(this.#threads.indexOf(thread), 1);
      for (const slot of [...thread.slots.values()]) slot.gone();
    });
    return thread;
  }

  /** Ends every thread (after the pool let its workers go). */
  async close() {
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }

  /** How many threads run now. */
  get threads() {
    return this.#threads.length;
  }
}
