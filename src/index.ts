// Component entry: wires WASI (HTTP, sockets, environment) to the app. Nothing else belongs here.

import { createApp } from './app.js';
import { Config } from './config.js';
import { readEnvironment } from './wasi-environment.js';
import { incomingHandlerFor } from './wasi-http.js';
import { wasiTcp } from './wasi-tcp.js';

// Read lazily: top-level code runs at build time (the engine is snapshotted), not in the host.
let config: Config | undefined;

export const incomingHandler = incomingHandlerFor(
  createApp({
    config: () => (config ??= new Config(readEnvironment())),
    network: wasiTcp,
  }),
);
