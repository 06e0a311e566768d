// The wiring both builds share: the app on WASI HTTP and sockets, with settings from the source each entry names.

import { createApp } from '../api/app.js';
import { Config, type Environment } from '../settings/config.js';
import { incomingHandlerFor } from '../wasi/http.js';
import { writeStderrLine } from '../wasi/stderr.js';
import { socketNetwork } from '../net/socket-network.js';
import { wasiSockets } from '../wasi/tcp.js';
import { datagramNetwork } from '../net/datagram-network.js';
import { wasiDatagrams } from '../wasi/udp.js';
import { wasiTls } from '../wasi/tls.js';

/** The component's `wasi:http/incoming-handler`, reading its settings through `readSettings`. */
export function componentHandler(readSettings: () => Environment): ReturnType<typeof incomingHandlerFor> {
  // Read lazily: top-level code runs at build time (the engine is snapshotted), not in the host.
  let config: Config | undefined;
  return incomingHandlerFor(
    createApp({
      config: () => (config ??= new Config(readSettings(), wasiTls.checkRoots)),
      network: socketNetwork(wasiSockets),
      udp: datagramNetwork(wasiDatagrams),
      writeAuditLine: writeStderrLine,
    }),
  );
}
