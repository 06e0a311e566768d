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

if (workerData.instances) {
  // jco's instantiation output: compiled once on this thread, instantiated per slot.
  const { instantiate } = await import(workerData.entry);
  const imports = await instanceImports(workerData.instances);
  /** Node's WebAssembly (the project's TypeScript libraries do not declare it). */
  const wasm = /** @type {{ compile(bytes: Uint8Array): Promise<unknown> }} */ (/** @type {any} */ (globalThis).WebAssembly);
  /** @type {Map<string, Promise<unknown>>} */
  const modules = new Map();
  /** @param {string} name */
  const coreModule = (name) => {
    let compiled = modules.get(name);
    if (!compiled) modules.set(name, (compiled = readFile(new URL(name, workerData.entry)).then((bytes) => wasm.compile(bytes))));
    return compiled;
  };
  /** @type {Map<number, Handler>} */
  const slots = new Map();

  port.on('message', async (/** @type {{ slot: number, start?: true, stop?: true } & RequestMessage} */ message) => {
    const { slot } = message;
    if (message.start) {
      try {
        slots.set(slot, (await instantiate(coreModule, imports)).incomingHandler);
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
    const handler = slots.get(slot);
    if (!handler) return port.postMessage({ slot, id: message.id, failed: 'no instance in this slot' });
    const { trapped, reply, transfer } = await answer(handler, message);
    if (slots.get(slot) !== handler) return;
    if (trapped) slots.delete(slot);
    port.postMessage({ slot, ...reply }, transfer ?? []);
  });
} else {
  /** @type {{ incomingHandler: Handler }} */
  const { incomingHandler } = await import(workerData.entry);
  port.on('message', async (/** @type {RequestMessage} */ message) => {
    const { trapped, reply, transfer } = await answer(incomingHandler, message);
    port.postMessage(reply, transfer ?? []);
    // A trapped instance cannot be trusted again: end this worker; the pool starts a fresh one.
    if (trapped) process.exit(1);
  });
  port.postMessage({ ready: true });
}
