// What a component instance on a worker's own thread imports (jco's instantiation output takes them keyed by
// interface): sockets, poll and the clock from host/wasi-sockets-in-thread.mjs, the incoming side of wasi:http
// from host/wasi-http-incoming.mjs, the TLS engine, further interfaces the host was given, and preview2-shim
// for the rest.

import { cli, clocks, filesystem, io, random, sockets } from '@bytecodealliance/preview2-shim';
import { outgoingHandler, types as httpTypes } from './wasi-http-incoming.mjs';
import { instanceNetwork, ipNameLookup, monotonicClock, poll, tcp, tcpCreateSocket, udp, udpCreateSocket } from './wasi-sockets-in-thread.mjs';

/** jco's instantiation output names its imports without their version: `wasi:io/poll`. @param {string} name */
const unversioned = (name) => name.replace(/@[^@]*$/, '');

/**
 * @param {{ engine: string, engineInterface: string, imports?: Record<string, string> }} options `engine`: the TLS
 * engine's module (URL); `imports`: further interfaces, as `interface → module URL#export`.
 * @returns {Promise<Record<string, unknown>>}
 */
export async function instanceImports({ engine, engineInterface, imports = {} }) {
  /** @type {Record<string, unknown>} */
  const table = {
    'wasi:cli/environment': cli.environment,
    'wasi:cli/exit': cli.exit,
    'wasi:cli/stderr': cli.stderr,
    'wasi:cli/stdin': cli.stdin,
    'wasi:cli/stdout': cli.stdout,
    'wasi:cli/terminal-input': cli.terminalInput,
    'wasi:cli/terminal-output': cli.terminalOutput,
    'wasi:cli/terminal-stderr': cli.terminalStderr,
    'wasi:cli/terminal-stdin': cli.terminalStdin,
    'wasi:cli/terminal-stdout': cli.terminalStdout,
    'wasi:clocks/monotonic-clock': monotonicClock,
    'wasi:clocks/wall-clock': clocks.wallClock,
    'wasi:filesystem/preopens': filesystem.preopens,
    'wasi:filesystem/types': filesystem.types,
    'wasi:http/outgoing-handler': outgoingHandler,
    'wasi:http/types': httpTypes,
    'wasi:io/error': io.error,
    'wasi:io/poll': poll,
    'wasi:io/streams': io.streams,
    'wasi:random/random': random.random,
    'wasi:random/insecure': random.insecure,
    'wasi:random/insecure-seed': random.insecureSeed,
    'wasi:sockets/instance-network': instanceNetwork,
    'wasi:sockets/ip-name-lookup': ipNameLookup,
    'wasi:sockets/network': sockets.network,
    'wasi:sockets/tcp': tcp,
    'wasi:sockets/tcp-create-socket': tcpCreateSocket,
    'wasi:sockets/udp': udp,
    'wasi:sockets/udp-create-socket': udpCreateSocket,
    [unversioned(engineInterface)]: (await import(engine)).client,
  };
  for (const [name, target] of Object.entries(imports)) {
    const [url = '', binding = ''] = target.split('#');
    table[unversioned(name)] = (await import(url))[binding];
  }
  return table;
}
