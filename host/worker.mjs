// A pool worker: one reused component instance. The dispatcher sends it one request at a time as a message;
// it calls the component's wasi:http/incoming-handler and sends back status, headers and body.

import { parentPort, workerData } from 'node:worker_threads';
import { _setArgs, _setEnv } from '@bytecodealliance/preview2-shim/cli';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { IncomingRequest, OutgoingResponse, ResponseOutparam, requestFields } from './wasi-http-incoming.mjs';

// The sandbox: only the documented settings, no arguments, no filesystem.
_setEnv(workerData.env);
_setArgs([]);
_setPreopens({});

/**
 * Returns a promise when transpiled for sockets on this thread (JSPI: the component suspends while it waits).
 * @type {{ incomingHandler: { handle(request: IncomingRequest, outparam: ResponseOutparam): void | Promise<void> } }}
 */
const { incomingHandler } = await import(workerData.entry);
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

port.on('message', async (/** @type {{ id: number } & import('./pool.mjs').WorkRequest} */ message) => {
  const { id, method, url, authority, rawHeaders, body: requestBody } = message;
  /** @type {import('./wasi-http-incoming.mjs').ResponseResult | undefined} */
  let response;
  const outparam = new ResponseOutparam((set) => (response = set));
  try {
    await incomingHandler.handle(new IncomingRequest(method, url, authority, requestFields(rawHeaders), requestBody), outparam);
  } catch (error) {
    port.postMessage({ id, failed: String(/** @type {Error} */ (error)?.message ?? error) });
    // A trapped instance cannot be trusted again: end this worker; the pool starts a fresh one.
    process.exit(1);
  }
  // The pool replaces a worker that reports a failure, so nothing more is done here.
  if (response === undefined) return port.postMessage({ id, failed: 'the component set no response' });
  if (response.tag !== 'ok') return port.postMessage({ id, failed: `the component set an error response (${JSON.stringify(response.val)})` });
  const { status, headers, body } = OutgoingResponse.collect(response.val);
  port.postMessage({ id, status, headers, body }, [/** @type {ArrayBuffer} */ (body.buffer)]);
});
port.postMessage({ ready: true });
