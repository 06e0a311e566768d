// Transpiles the component to JS + core Wasm for Node once per component hash, so restarts are fast.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENGINE_INTERFACE, ENGINE_PATH } from '../scripts/tls-engine.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CACHE_DIR = join(root, '.cache', 'transpiled');
const NAME = 'component';
const BASE_OPTIONS = { name: NAME, noTypescript: true, quiet: true };
/** preview2-shim for every WASI interface, except the incoming side of wasi:http, which the worker keeps in memory. */
const OPTIONS = {
  ...BASE_OPTIONS,
  wasiShim: true,
  map: { 'wasi:http/*': `${pathToFileURL(join(root, 'host', 'wasi-http-incoming.mjs')).href}#*` },
};
/**
 * For sockets on the worker's own thread (JSPI): jco's JSPI mode, with `poll` and `pollable.block` as the only
 * suspending imports and the handler export returning a promise; and jco's instantiation output, so one worker
 * thread runs several instances of one compiled module (host/worker.mjs gives each its imports, the sockets of
 * host/wasi-sockets-in-thread.mjs among them).
 */
const IN_THREAD_OPTIONS = {
  ...BASE_OPTIONS,
  instantiation: /** @type {const} */ ('async'),
  asyncMode: /** @type {const} */ ('jspi'),
  asyncImports: ['wasi:io/poll#poll', 'wasi:io/poll#[method]pollable.block'],
  asyncExports: ['wasi:http/incoming-handler#handle'],
};

/** Bumped whenever the post-processing below changes, so old cache entries are not reused. */
const CACHE_VERSION = 3;
/** Entries kept in the cache (about 15 MB each): the newest used ones (the engine, the app in each sockets mode, older builds). */
export const CACHE_KEEP_ENTRIES = 5;
/** A temporary directory older than this was left by a crashed transpile, not one in progress. */
const STALE_TMP_MS = 10 * 60_000;

/**
 * jco's generated bindings call `_debugLog` several times per host call, and each call reads
 * `process.env.JCO_DEBUG` (a slow native property lookup): measured at ~15% of a request's CPU on the
 * local host. Reading the switch once, at load, keeps JCO_DEBUG working and removes the cost.
 * Throws when the helper is not there in the expected form (a jco upgrade changed it): the gain must not
 * vanish unnoticed.
 *
 * The helper is jco's (its bindings generator, js-component-bindgen, writes it into every transpiled module),
 * not componentize-js's; no upstream issue was found for its cost. Still needed in jco 1.35.0, the newest: it
 * can go once jco's `_debugLog` stops reading `process.env` on every call (the check above then throws): remove
 * this function and bump CACHE_VERSION.
 * @param {string} code
 */
export function readJcoDebugOnce(code) {
  const helper = /const _debugLog = \(\.\.\.args\) => \{\n\s*if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}\n\s*console\.debug\(\.\.\.args\);\n\s*\};/;
  if (!helper.test(code)) {
    throw new Error(
      "transpile-cache: jco's generated `_debugLog` helper is not in the expected form (a jco upgrade?); update readJcoDebugOnce in host/transpile-cache.mjs",
    );
  }
  return code.replace(
    helper,
    'const _jcoDebug = !!globalThis?.process?.env?.JCO_DEBUG;\nconst _debugLog = _jcoDebug ? (...args) => console.debug(...args) : () => {};',
  );
}

/**
 * Removes all but the `CACHE_KEEP_ENTRIES` most recently used entries, and temporary directories a crash left.
 * @param {string} cacheDir
 */
async function pruneCache(cacheDir = CACHE_DIR) {
  const names = await readdir(cacheDir).catch(() => /** @type {string[]} */ ([]));
  const entries = await Promise.all(names.map(async (name) => ({ name, mtimeMs: (await stat(join(cacheDir, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
  const done = entries.filter((e) => !e.name.includes('.tmp-')).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const stale = entries.filter((e) => e.name.includes('.tmp-') && Date.now() - e.mtimeMs > STALE_TMP_MS);
  for (const { name } of [...done.slice(CACHE_KEEP_ENTRIES), ...stale]) await rm(join(cacheDir, name), { recursive: true, force: true });
}

/**
 * Returns the path of the transpiled ES module for `componentPath`, transpiling it only when not cached.
 * `imports` maps further imported interfaces to modules (jco's `map`: `{ 'fermyon:spin/variables@2.0.0':
 * 'file:///…/module.mjs#variables' }`), for components that import more than WASI.
 * `inThread` transpiles for sockets on the worker's own thread (JSPI; see IN_THREAD_OPTIONS).
 * @param {string} componentPath
 * @param {string} [cacheDir]
 * @param {Record<string, string>} [imports]
 * @param {{ inThread?: boolean }} [mode]
 * @returns {Promise<{ entry: string, hash: string, cached: boolean }>}
 */
export async function transpiled(componentPath, cacheDir = CACHE_DIR, imports = {}, { inThread = false } = {}) {
  const bytes = await readFile(componentPath);
  // The instantiation output takes its imports when instantiated: `imports` are the worker's to give then.
  const options = inThread ? IN_THREAD_OPTIONS : { ...OPTIONS, map: { ...OPTIONS.map, ...imports } };
  const hash = createHash('sha256').update(bytes).update(JSON.stringify({ options, CACHE_VERSION })).digest('hex').slice(0, 32);
  const dir = join(cacheDir, hash);
  const entry = join(dir, `${NAME}.js`);
  if (existsSync(entry)) {
    // Marks the entry as recently used, so pruning keeps it.
    const now = new Date();
    await utimes(dir, now, now).catch(() => {});
    return { entry, hash, cached: true };
  }
  const { transpile } = await import('@bytecodealliance/jco');
  const { files } = await transpile(bytes, options);
  // Patched before anything is written, so a failed patch leaves nothing behind.
  const outputs = Object.entries(files).map(([file, content]) =>
    /** @type {const} */ ([file, file === `${NAME}.js` ? readJcoDebugOnce(Buffer.from(content).toString('utf8')) : content]),
  );
  // Write into a temporary directory and rename it, so a crash never leaves half a cache entry.
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  for (const [file, data] of outputs) {
    await mkdir(dirname(join(tmp, file)), { recursive: true });
    await writeFile(join(tmp, file), data);
  }
  try {
    await rename(tmp, dir);
  } catch (error) {
    // Another host starting at the same time finished first: its entry is the same, use it.
    await rm(tmp, { recursive: true, force: true });
    const code = /** @type {{ code?: string }} */ (error).code ?? '';
    if (!['ENOTEMPTY', 'EEXIST'].includes(code) || !existsSync(entry)) throw error;
    return { entry, hash, cached: true };
  }
  await pruneCache(cacheDir);
  return { entry, hash, cached: false };
}

/**
 * Transpiles the app component (dist/NAME.app.wasm) and the TLS engine each on its own, the app's import of the
 * engine mapped to the engine's module. Transpiling the composed component as one would route the engine's
 * memory through a JavaScript call per byte (35 times slower on Node 20), so the local host links the two itself.
 * In the in-thread mode the worker links them when it instantiates (`engine` is the engine's module).
 * @param {string} componentPath
 * @param {string} [cacheDir]
 * @param {Record<string, string>} [imports]
 * @param {{ inThread?: boolean }} [mode]
 * @returns {Promise<{ entry: string, hash: string, cached: boolean, engine: string }>}
 */
export async function transpiledWithEngine(componentPath, cacheDir = CACHE_DIR, imports = {}, mode = {}) {
  // The engine makes no I/O call: the same transpile serves both modes.
  const engine = await transpiled(ENGINE_PATH, cacheDir);
  const app = await transpiled(componentPath, cacheDir, { [ENGINE_INTERFACE]: `${pathToFileURL(engine.entry).href}#client`, ...imports }, mode);
  return { ...app, engine: engine.entry };
}
