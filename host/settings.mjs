// The configuration variables the component documents: the local host forwards these, and only these.

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
