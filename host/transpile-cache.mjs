// Transpiles the component to JS + core Wasm for Node once per component hash, so restarts are fast.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CACHE_DIR = join(root, '.cache', 'transpiled');
const NAME = 'component';
/** preview2-shim for every WASI interface, except the incoming side of wasi:http, which the worker keeps in memory. */
const OPTIONS = {
  name: NAME,
  noTypescript: true,
  wasiShim: true,
  quiet: true,
  map: { 'wasi:http/*': `${pathToFileURL(join(root, 'host', 'wasi-http-incoming.mjs')).href}#*` },
};
/** Bumped whenever the post-processing below changes, so old cache entries are not reused. */
const CACHE_VERSION = 3;

/**
 * jco's generated bindings call `_debugLog` several times per host call, and each call reads
 * `process.env.JCO_DEBUG` (a slow native property lookup): measured at ~15% of a request's CPU on the
 * local host. Reading the switch once, at load, keeps JCO_DEBUG working and removes the cost.
 * Returns the code unchanged when the helper is not there (a jco version without it).
 */
export function readJcoDebugOnce(code) {
  const helper = /const _debugLog = \(\.\.\.args\) => \{\n\s*if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}\n\s*console\.debug\(\.\.\.args\);\n\};/;
  return code.replace(
    helper,
    'const _jcoDebug = !!globalThis?.process?.env?.JCO_DEBUG;\nconst _debugLog = _jcoDebug ? (...args) => console.debug(...args) : () => {};',
  );
}

/** Returns the path of the transpiled ES module for `componentPath`, transpiling it only when not cached. */
export async function transpiled(componentPath, cacheDir = CACHE_DIR) {
  const bytes = await readFile(componentPath);
  const hash = createHash('sha256').update(bytes).update(JSON.stringify({ OPTIONS, CACHE_VERSION })).digest('hex').slice(0, 32);
  const dir = join(cacheDir, hash);
  const entry = join(dir, `${NAME}.js`);
  if (existsSync(entry)) return { entry, hash, cached: true };
  const { transpile } = await import('@bytecodealliance/jco');
  const { files } = await transpile(bytes, OPTIONS);
  // Write into a temporary directory and rename it, so a crash never leaves half a cache entry.
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(tmp, file)), { recursive: true });
    const data = file === `${NAME}.js` ? readJcoDebugOnce(Buffer.from(content).toString('utf8')) : content;
    await writeFile(join(tmp, file), data);
  }
  try {
    await rename(tmp, dir);
  } catch (error) {
    // Another host starting at the same time finished first: its entry is the same, use it.
    await rm(tmp, { recursive: true, force: true });
    if (!['ENOTEMPTY', 'EEXIST'].includes(error.code) || !existsSync(entry)) throw error;
    return { entry, hash, cached: true };
  }
  return { entry, hash, cached: false };
}
