/// <reference path="./interfaces/ai-agent-sockets-tls-client.d.ts" />
/// <reference path="./interfaces/fermyon-spin-variables.d.ts" />
/// <reference path="./interfaces/wasi-cli-environment.d.ts" />
/// <reference path="./interfaces/wasi-cli-stderr.d.ts" />
/// <reference path="./interfaces/wasi-clocks-monotonic-clock.d.ts" />
/// <reference path="./interfaces/wasi-http-incoming-handler.d.ts" />
/// <reference path="./interfaces/wasi-http-types.d.ts" />
/// <reference path="./interfaces/wasi-io-error.d.ts" />
/// <reference path="./interfaces/wasi-io-poll.d.ts" />
/// <reference path="./interfaces/wasi-io-streams.d.ts" />
/// <reference path="./interfaces/wasi-sockets-instance-network.d.ts" />
/// <reference path="./interfaces/wasi-sockets-ip-name-lookup.d.ts" />
/// <reference path="./interfaces/wasi-sockets-network.d.ts" />
/// <reference path="./interfaces/wasi-sockets-tcp-create-socket.d.ts" />
/// <reference path="./interfaces/wasi-sockets-tcp.d.ts" />
/// <reference path="./interfaces/wasi-sockets-udp-create-socket.d.ts" />
/// <reference path="./interfaces/wasi-sockets-udp.d.ts" />
declare module 'ai-agent-sockets:component/ai-agent-sockets-spin' {
  export type * as AiAgentSocketsTlsClient010 from 'ai-agent-sockets:tls/client@0.1.0'; // import ai-agent-sockets:tls/client@0.1.0
  export type * as FermyonSpinVariables200 from 'fermyon:spin/variables@2.0.0'; // import fermyon:spin/variables@2.0.0
  export type * as WasiCliEnvironment0212 from 'wasi:cli/environment@0.2.12'; // import wasi:cli/environment@0.2.12
  export type * as WasiCliStderr0212 from 'wasi:cli/stderr@0.2.12'; // import wasi:cli/stderr@0.2.12
  export type * as WasiClocksMonotonicClock0212 from 'wasi:clocks/monotonic-clock@0.2.12'; // import wasi:clocks/monotonic-clock@0.2.12
  export type * as WasiHttpTypes0210 from 'wasi:http/types@0.2.10'; // import wasi:http/types@0.2.10
  export type * as WasiIoError0212 from 'wasi:io/error@0.2.12'; // import wasi:io/error@0.2.12
  export type * as WasiIoPoll0212 from 'wasi:io/poll@0.2.12'; // import wasi:io/poll@0.2.12
  export type * as WasiIoStreams0212 from 'wasi:io/streams@0.2.12'; // import wasi:io/streams@0.2.12
  export type * as WasiSocketsInstanceNetwork0212 from 'wasi:sockets/instance-network@0.2.12'; // import wasi:sockets/instance-network@0.2.12
  export type * as WasiSocketsIpNameLookup0212 from 'wasi:sockets/ip-name-lookup@0.2.12'; // import wasi:sockets/ip-name-lookup@0.2.12
  export type * as WasiSocketsNetwork0212 from 'wasi:sockets/network@0.2.12'; // import wasi:sockets/network@0.2.12
  export type * as WasiSocketsTcpCreateSocket0212 from 'wasi:sockets/tcp-create-socket@0.2.12'; // import wasi:sockets/tcp-create-socket@0.2.12
  export type * as WasiSocketsTcp0212 from 'wasi:sockets/tcp@0.2.12'; // import wasi:sockets/tcp@0.2.12
  export type * as WasiSocketsUdpCreateSocket0212 from 'wasi:sockets/udp-create-socket@0.2.12'; // import wasi:sockets/udp-create-socket@0.2.12
  export type * as WasiSocketsUdp0212 from 'wasi:sockets/udp@0.2.12'; // import wasi:sockets/udp@0.2.12
  export * as incomingHandler from 'wasi:http/incoming-handler@0.2.10'; // export wasi:http/incoming-handler@0.2.10
}
