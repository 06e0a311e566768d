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

const { incomingHandler } = await import(workerData.entry);

parentPort.on('message', (message) => {
  if (message === 'stop') process.exit(0);
  const { id, method, url, authority, rawHeaders, body: requestBody } = message;
  let response;
  const outparam = new ResponseOutparam((set) => (response = set));
  try {
    incomingHandler.handle(new IncomingRequest(method, url, authority, requestFields(rawHeaders), requestBody), outparam);
  } catch (error) {
    parentPort.postMessage({ id, failed: String(error?.message ?? error) });
    // A trapped instance cannot be trusted again: end this worker; the pool starts a fresh one.
    process.exit(1);
  }
  if (response?.tag !== 'ok') {
    parentPort.postMessage({ id, failed: 'the component set no response' });
    return;
  }
  const { status, headers, body } = OutgoingResponse.collect(response.val);
  parentPort.postMessage({ id, status, headers, body }, [body.buffer]);
});
parentPort.postMessage({ ready: true });
