// A pool worker: one reused component instance behind preview2-shim's wasi:http server on a loopback port.

import { parentPort, workerData } from 'node:worker_threads';
import { _setEnv, _setArgs } from '@bytecodealliance/preview2-shim/cli';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { HTTPServer } from '@bytecodealliance/preview2-shim/http';

// The sandbox: only the documented settings, no arguments, no filesystem.
_setEnv(workerData.env);
_setArgs([]);
_setPreopens({});

const { incomingHandler } = await import(workerData.entry);
const server = new HTTPServer(incomingHandler);
server.listen(0, '127.0.0.1');
parentPort.postMessage({ port: server.address().port });
parentPort.on('message', (message) => {
  if (message === 'stop') {
    server.stop();
    process.exit(0);
  }
});
