// A pool worker thread; the dispatcher sends it requests as messages and it answers each with the status,
// headers and body the component's wasi:http/incoming-handler set.
// - Sockets through preview2-shim's I/O thread (Node 20 and 22): one reused instance, one request at a time,
//   since every socket call blocks the thread.
// - Sockets on this thread (JSPI, Node 24+): an instance per slot the dispatcher gives it (host/shared-threads.mjs),
//   all of one compiled module; an instance waiting on its sockets is suspended while the others run.

import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { _setArgs, _setEnv } from '@bytecodealliance/preview2-shim/cli';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { instanceImports } from './instance-imports.mjs';
import { IncomingRequest, OutgoingResponse, ResponseOutparam, requestFields } from './wasi-http-incoming.mjs';

// The sandbox: only the documented settings, no arguments, no filesystem.
_setEnv(workerData.env);
_setArgs([]);
_setPreopens({});

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/**
 * @typedef {{ handle(request: IncomingRequest, outparam: ResponseOutparam): void | Promise<void> }} Handler
 * @typedef {{ id: number } & import('./pool.mjs').WorkRequest} RequestMessage
 */

/**
 * Has `handler` answer `message`; a message for the dispatcher, with the body to transfer, or `trapped` when the
 * instance threw (it cannot be trusted again).
 * @param {Handler} handler
 * @param {RequestMessage} message
 */
async function answer(handler, { id, method, url, authority, rawHeaders, body: requestBody }) {
  /** @type {import('./wasi-http-incoming.mjs').ResponseResult | undefined} */
  let response;
  const outparam = new ResponseOutparam((set) => (response = set));
  const request = new IncomingRequest(method, url, authority, requestFields(rawHeaders), requestBody);
  try {
    await handler.handle(request, outparam);
  } catch (error) {
    return { trapped: true, reply: { id, failed: String(/** @type {Error} */ (error)?.message ?? error) } };
  } finally {
    IncomingRequest.release(request);
  }
  // The pool replaces a worker that reports a failure, so nothing more is done here.
  if (response === undefined) return { reply: { id, failed: 'the component set no response' } };
  if (response.tag !== 'ok') return { reply: { id, failed: `the component set an error response (${JSON.stringify(response.val)})` } };
  const { status, headers, body } = OutgoingResponse.collect(response.val);
  return { reply: { id, status, headers, body }, transfer: [/** @type {ArrayBuffer} */ (body.buffer)] };
}

/**
 * Linear memory an instance may reach before the host replaces it with a fresh one. A reused instance's memory
 * never shrinks: the engine's garbage-collected heap grows in it, in steps, until it settles well above what one
 * request needs (about 90 MiB after 30,000 requests, measured). A fresh instance starts at about 11 MiB.
 * Replacing one costs about 1.2 s of a worker with sockets through the I/O thread (Node 20, 22: a new thread),
 * 70 ms on a shared thread (JSPI: a new instance of the compiled module).
 */
const MEMORY_LIMIT_BYTES = workerData.instanceMemoryLimitBytes ?? 24 * 1024 * 1024;

/** Node's WebAssembly (the project's TypeScript libraries do not declare it). */
const wasm = /** @type {{ compile(bytes: Uint8Array): Promise<unknown>, instantiate(module: unknown, imports?: unknown): Promise<any>, Memory: Function }} */ (
  /** @type {any} */ (globalThis).WebAssembly
);

/** WebAssembly.instantiate itself, whatever stands in for it while a module loads. */
const coreInstantiate = wasm.instantiate.bind(wasm);

/**
 * jco's `instantiateCore` that also keeps the memories each core instance exports, into `memories`.
 * @param {{ buffer: ArrayBuffer }[]} memories
 */
const recordingInstantiate = (memories) => async (/** @type {unknown} */ module, /** @type {unknown} */ imports) => {
  const instance = await coreInstantiate(module, imports);
  for (const value of Object.values(instance.exports)) if (value instanceof wasm.Memory) memories.push(/** @type {{ buffer: ArrayBuffer }} */ (value));
  return instance;
};

/** @param {{ buffer: ArrayBuffer }[]} memories */
const memoryBytes = (memories) => memories.reduce((n, memory) => n + memory.buffer.byteLength, 0);

/** @param {number} bytes */
const mebibytes = (bytes) => `${Math.round(bytes / 1_048_576)} MiB`;

/**
 * The log line for an instance replaced because of its memory.
 * @param {number} bytes
 */
const replacedLine = (bytes) =>
  `ai-agent-sockets host: an instance's memory reached ${mebibytes(bytes)} (limit ${mebibytes(MEMORY_LIMIT_BYTES)}); replacing it with a fresh one`;

if (workerData.instances) {
  // jco's instantiation output: compiled once on this thread, instantiated per slot.
  const { instantiate } = await import(workerData.entry);
  const imports = await instanceImports(workerData.instances);
  /** @type {Map<string, Promise<unknown>>} */
  const modules = new Map();
  /** @param {string} name */
  const coreModule = (name) => {
    let compiled = modules.get(name);
    if (!compiled) modules.set(name, (compiled = readFile(new URL(name, workerData.entry)).then((bytes) => wasm.compile(bytes))));
    return compiled;
  };
  /** @typedef {{ handler: Handler, memories: { buffer: ArrayBuffer }[] }} Instance */
  /** @returns {Promise<Instance>} */
  const newInstance = async () => {
    /** @type {{ buffer: ArrayBuffer }[]} */
    const memories = [];
    const { incomingHandler } = await instantiate(coreModule, imports, recordingInstantiate(memories));
    return { handler: incomingHandler, memories };
  };
  /** @type {Map<number, Instance>} */
  const slots = new Map();

  port.on('message', async (/** @type {{ slot: number, start?: true, stop?: true } & RequestMessage} */ message) => {
    const { slot } = message;
    if (message.start) {
      try {
        slots.set(slot, await newInstance());
        port.postMessage({ slot, ready: true });
      } catch (error) {
        port.postMessage({ slot, startFailed: String(/** @type {Error} */ (error)?.stack ?? error) });
      }
      return;
    }
    if (message.stop) {
      // An instance still waiting on its sockets is let go too: whatever it answers later goes nowhere.
      slots.delete(slot);
      port.postMessage({ slot, stopped: true });
      return;
    }
    const instance = slots.get(slot);
    if (!instance) return port.postMessage({ slot, id: message.id, failed: 'no instance in this slot' });
    const { trapped, reply, transfer } = await answer(instance.handler, message);
    if (slots.get(slot) !== instance) return;
    if (trapped) slots.delete(slot);
    else if (memoryBytes(instance.memories) > MEMORY_LIMIT_BYTES) {
      // Replaced before the reply goes out, so the slot's next request finds the fresh instance.
      console.error(replacedLine(memoryBytes(instance.memories)));
      slots.delete(slot);
      await newInstance().then((fresh) => slots.set(slot, fresh), (error) => console.error(`ai-agent-sockets host: no fresh instance: ${error?.stack ?? error}`));
    }
    port.postMessage({ slot, ...reply }, transfer ?? []);
  });
} else {
  // jco's module output instantiates as it loads, through WebAssembly.instantiate as it was then: recorded for the load.
  /** @type {{ buffer: ArrayBuffer }[]} */
  const memories = [];
  const webAssembly = /** @type {any} */ (globalThis).WebAssembly;
  const { instantiate } = webAssembly;
  webAssembly.instantiate = recordingInstantiate(memories);
  /** @type {{ incomingHandler: Handler }} */
  let loaded;
  try {
    loaded = await import(workerData.entry);
  } finally {
    webAssembly.instantiate = instantiate;
  }
  const { incomingHandler } = loaded;
  port.on('message', async (/** @type {RequestMessage} */ message) => {
    const { trapped, reply, transfer } = await answer(incomingHandler, message);
    // One instance per thread here: a fresh instance is a fresh worker. The reply says so, so the pool sends
    // this worker nothing more, and is delivered before the exit.
    const retiring = !trapped && memoryBytes(memories) > MEMORY_LIMIT_BYTES;
    if (retiring) console.error(replacedLine(memoryBytes(memories)));
    port.postMessage(retiring ? { ...reply, retiring } : reply, transfer ?? []);
    // A trapped instance cannot be trusted again: end this worker; the pool starts a fresh one.
    if (trapped) process.exit(1);
    if (retiring) process.exit(0);
  });
  port.postMessage({ ready: true });
}
