// Builds dist/ai-agent-sockets.wasm: webpack bundles src/ into one ES module, componentize-js makes the component.
// `--if-stale` skips the build when the inputs (sources, WIT, build files, lockfile) are unchanged.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';
import { componentize } from '@bytecodealliance/componentize-js';
import webpackConfig from '../webpack.config.js';
import { installMethodlessResourceWorkaround } from './methodless-resources.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const COMPONENT_PATH = join(root, 'dist', 'ai-agent-sockets.wasm');
const BUNDLE_PATH = join(root, 'dist', 'ai-agent-sockets.js');
const STAMP_PATH = join(root, 'dist', 'ai-agent-sockets.inputs');
const INPUTS = ['src', 'wit', 'scripts/build.mjs', 'scripts/methodless-resources.mjs', 'webpack.config.js', 'package-lock.json'];

/** @param {string} path */
async function filesUnder(path) {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  try {
    const entries = await readdir(full, { withFileTypes: true, recursive: true });
    return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath ?? e.path, e.name)));
  } catch {
    return [path];
  }
}

/** A hash of every build input, so a stale component is rebuilt and a current one is not. */
export async function inputsHash() {
  const hash = createHash('sha256');
  const files = (await Promise.all(INPUTS.map(filesUnder))).flat().sort();
  for (const file of files) hash.update(file).update('\0').update(await readFile(join(root, file))).update('\0');
  return hash.digest('hex');
}

function bundle() {
  return /** @type {Promise<void>} */ (
    new Promise((resolve, reject) => {
      webpack(webpackConfig, (error, stats) => {
        if (error) return reject(error);
        if (!stats || stats.hasErrors()) return reject(new Error(stats?.toString({ all: false, errors: true }) ?? 'webpack gave no result'));
        resolve();
      });
    })
  );
}

/**
 * Builds the component, or with `ifStale` only when its inputs changed since the last build.
 * @param {{ ifStale?: boolean, quiet?: boolean }} [options]
 */
export async function build({ ifStale = false, quiet = false } = {}) {
  const hash = await inputsHash();
  if (ifStale && existsSync(COMPONENT_PATH) && existsSync(STAMP_PATH) && (await readFile(STAMP_PATH, 'utf8')) === hash) {
    return { built: false, path: COMPONENT_PATH };
  }
  const log = quiet ? () => {} : (/** @type {string} */ m) => console.error(m);
  const started = Date.now();
  await mkdir(join(root, 'dist'), { recursive: true });
  log('bundling src/ with webpack…');
  await bundle();
  log('making the component with componentize-js…');
  const workaround = await installMethodlessResourceWorkaround();
  const { component } = await componentize({
    sourcePath: BUNDLE_PATH,
    witPath: join(root, 'wit'),
    worldName: 'ai-agent-sockets',
    // @cfworker/json-schema reads `location` when it loads, which runs at build time (the engine is snapshotted).
    runtimeArgs: '--init-location http://component.local/',
  });
  await writeFile(COMPONENT_PATH, component);
  await writeFile(STAMP_PATH, hash);
  log(`built ${relative(root, COMPONENT_PATH)} (${(component.length / 1048576).toFixed(1)} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (workaround.added.length === 0) {
    // Not an error by itself (ComponentizeJS may have fixed issue 221), but the end-to-end socket tests will say.
    console.error('note: the methodless-resources workaround declared no class: if sockets fail, revisit scripts/methodless-resources.mjs');
  }
  return { built: true, path: COMPONENT_PATH, workaround };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await build({ ifStale: process.argv.includes('--if-stale') });
}
