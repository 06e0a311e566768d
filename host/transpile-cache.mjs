// Transpiles the component to JS + core Wasm for Node once per component hash, so restarts are fast.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CACHE_DIR = join(root, '.cache', 'transpiled');
const NAME = 'component';

/** Returns the path of the transpiled ES module for `componentPath`, transpiling it only when not cached. */
export async function transpiled(componentPath) {
  const bytes = await readFile(componentPath);
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  const dir = join(CACHE_DIR, hash);
  const entry = join(dir, `${NAME}.js`);
  if (existsSync(entry)) return { entry, hash, cached: true };
  const { transpile } = await import('@bytecodealliance/jco');
  const { files } = await transpile(bytes, { name: NAME, noTypescript: true, wasiShim: true, quiet: true });
  // Write into a temporary directory and rename it, so a crash never leaves half a cache entry.
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(tmp, file)), { recursive: true });
    await writeFile(join(tmp, file), content);
  }
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return { entry, hash, cached: false };
}
