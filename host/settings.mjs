// The configuration variables the component documents: the local host forwards these, and only these.

import { BlockList, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { COMPONENT_SETTINGS } from '../src/settings/setting-names.js';

/**
 * The subset of `env` the component may see: nothing else of the host's environment leaks in.
 * @param {Record<string, string | undefined>} env
 * @returns {Record<string, string>}
 */
export function componentEnvironment(env) {
  return Object.fromEntries(COMPONENT_SETTINGS.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])));
}

/**
 * What `npm start` allows when ALLOWED_TARGETS is not set in its environment: loopback (so the README's
 * quick start works) and the public internet. Private, link-local and metadata ranges stay denied, because
 * `0.0.0.0/0` is less specific than the built-in deny entries.
 */
export const LOCAL_PROFILE_ALLOWED_TARGETS = '127.0.0.0/8:*,[::1]:*,0.0.0.0/0:*,[::/0]:*';

/** Whether this Node has JSPI (`WebAssembly.Suspending` and `promising`: Node 24 and later). */
const wasm = /** @type {{ Suspending?: unknown, promising?: unknown }} */ (/** @type {any} */ (globalThis).WebAssembly ?? {});
export const HAS_JSPI = typeof wasm.Suspending === 'function' && typeof wasm.promising === 'function';

/**
 * Where the workers make their component's socket calls (`HOST_SOCKETS`): `worker`, on each worker's own thread
 * (jco's JSPI mode; the default where Node has JSPI), or `io-thread`, through preview2-shim's I/O thread (the
 * only way on Node 20 and 22). Throws a one-line reason for a value that cannot be had here.
 * @param {string | undefined} raw
 * @returns {'worker' | 'io-thread'}
 */
export function socketsMode(raw) {
  if (raw === undefined || raw === '') return HAS_JSPI ? 'worker' : 'io-thread';
  if (raw === 'io-thread') return raw;
  if (raw === 'worker') {
    if (HAS_JSPI) return raw;
    throw new Error(`HOST_SOCKETS=worker needs JSPI (WebAssembly.Suspending), which Node ${process.version} lacks: use Node 24 or later, or HOST_SOCKETS=io-thread`);
  }
  throw new Error(`HOST_SOCKETS=${JSON.stringify(raw)} is invalid: expected worker or io-thread`);
}

/** Where `npm start` listens unless HOST says otherwise: only this machine can reach it. */
export const DEFAULT_HOST = '127.0.0.1';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/**
 * Whether `host` (HOST) is loopback, i.e. only this machine can reach a server listening there.
 * @param {string} host
 */
export function isLoopbackHost(host) {
  if (host.toLowerCase() === 'localhost') return true;
  const family = isIPv6(host) ? 'ipv6' : 'ipv4';
  try {
    return LOOPBACK.check(host, family);
  } catch {
    // Not an address: a name other than localhost may stand for any interface.
    return false;
  }
}

/**
 * Throws a one-line reason when `npm start` would listen beyond loopback without AUTH_TOKEN and without the
 * explicit opt-in `ALLOW_UNAUTHENTICATED=true`: anyone who reaches the port could connect anywhere through it
 * (this machine's loopback services included, since the local profile opens loopback).
 * @param {string} host
 * @param {Record<string, string | undefined>} env
 */
export function checkExposure(host, env) {
  const optIn = env.ALLOW_UNAUTHENTICATED ?? '';
  if (!['', 'true', 'false'].includes(optIn)) throw new Error(`ALLOW_UNAUTHENTICATED=${JSON.stringify(optIn)} is invalid: expected true or false`);
  if (isLoopbackHost(host) || env.AUTH_TOKEN || env.CALLERS || optIn === 'true') return;
  throw new Error(
    `ai-agent-sockets will not listen on ${host} without AUTH_TOKEN: anyone who can reach it could open connections through it. Set AUTH_TOKEN (16+ characters, e.g. AUTH_TOKEN=$(openssl rand -hex 32)), or ALLOW_UNAUTHENTICATED=true to serve without one anyway, or leave HOST unset to listen on ${DEFAULT_HOST} only`,
  );
}

/**
 * The addresses a server bound to `address`:`port` answers at, as OWN_ADDRESSES entries, so that the component
 * refuses them as targets (a request there would loop back into the server). A wildcard answers at every local
 * address: loopback's whole range (Linux routes all of 127.0.0.0/8 to it) and each interface's own address, with
 * `::` taking IPv4 as well (Node listens dual-stack); a specific address answers only there.
 * @param {string} address the bound address, as `server.address()` gives it
 * @param {number} port the bound port (a real one, never 0)
 * @param {NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>} [interfaces] this machine's, by default
 * @returns {string[]}
 */
export function ownAddresses(address, port, interfaces = networkInterfaces()) {
  /** @param {string} text an address or CIDR */
  const entry = (text) => (isIPv6(text.split('/')[0] ?? '') ? `[${text}]:${port}` : `${text}:${port}`);
  if (address !== '0.0.0.0' && address !== '::') return [entry(address)];
  const families = address === '::' ? ['IPv4', 'IPv6'] : ['IPv4'];
  const local = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((info) => families.includes(info.family))
    .map((info) => (info.internal && info.cidr ? info.cidr : info.address));
  const unspecified = address === '::' ? ['::', '0.0.0.0'] : ['0.0.0.0'];
  return [...new Set([...unspecified, ...local])].map(entry);
}

/**
 * The bearer token `--stdio` presents on every message (host/mcp-stdio.mjs), or undefined for an open service.
 * Over stdio the caller is the process that launched this one and set its environment, so: STDIO_TOKEN when set
 * (with CALLERS, the token of the caller this session acts for: its reach, its limits, its name in the audit),
 * else AUTH_TOKEN itself (the one caller, whose token that environment holds anyway). Throws with CALLERS and no
 * STDIO_TOKEN: the service could not tell which caller this is. HTTP authentication is untouched: a client there
 * still presents its own token.
 * @param {Record<string, string | undefined>} env
 * @returns {string | undefined}
 */
export function stdioToken(env) {
  const token = env.STDIO_TOKEN || undefined;
  if (env.CALLERS && token === undefined) {
    throw new Error('ai-agent-sockets cannot start: CALLERS is set, so every request must name its caller: set STDIO_TOKEN to the token of the caller this stdio session acts for');
  }
  return token ?? (env.AUTH_TOKEN || undefined);
}
