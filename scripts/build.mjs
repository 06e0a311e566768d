// Builds the components: webpack bundles each entry of src/ into one ES module, componentize-js makes the
// component of its world. One source, two builds: dist/ai-agent-sockets.wasm (portable: settings from the
// environment) and dist/ai-agent-sockets-spin.wasm (settings from Spin variables first).
// `--if-stale` skips each build whose inputs (sources, WIT, build files, lockfile) are unchanged.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installMethodlessResourceWorkaround } from './methodless-resources.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const INPUTS = ['src', 'wit', 'scripts/build.mjs', 'scripts/methodless-resources.mjs', 'webpack.config.js', 'package-lock.json'];

/**
 * @typedef {'portable' | 'spin'} BuildName
 * @typedef {{ name: string, entry: string, world: string }} BuildSpec
 */

/** The builds: output name (dist/NAME.wasm), webpack entry, and WIT world (wit/world.wit). */
export const BUILDS = /** @type {const} @satisfies {Record<BuildName, BuildSpec>} */ ({
  /** For wasmtime, the local host and the container image: imports nothing Spin-only. */
  portable: { name: 'ai-agent-sockets', entry: './src/entry/index.ts', world: 'ai-agent-sockets' },
  /** For Spin and SpinKube: also imports fermyon:spin/variables@2.0.0. */
  spin: { name: 'ai-agent-sockets-spin', entry: './src/entry/index-spin.ts', world: 'ai-agent-sockets-spin' },
});

/** @param {BuildSpec} spec */
const outputPath = (spec, ext = 'wasm') => join(root, 'dist', `${spec.name}.${ext}`);
/** The portable component (absolute path): what the local host, wasmtime and the container run. */
export const PORTABLE_COMPONENT_PATH = outputPath(BUILDS.portable);
/** The Spin build (absolute path). */
export const SPIN_COMPONENT_PATH = outputPath(BUILDS.spin);

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
async function inputsHash() {
  const hash = createHash('sha256');
  const files = (await Promise.all(INPUTS.map(filesUnder))).flat().sort();
  for (const file of files) hash.update(file).update('\0').update(await readFile(join(root, file))).update('\0');
  return hash.digest('hex');
}

/**
 * Bundles the entries of `specs` in one webpack run.
 * @param {BuildSpec[]} specs
 */
async function bundle(specs) {
  // The build tools load only when a build runs: `npm start` with a current component never pays for them.
  const [{ default: webpack }, { default: bundleConfig }] = await Promise.all([import('webpack'), import('../webpack.config.js')]);
  return /** @type {Promise<void>} */ (
    new Promise((resolve, reject) => {
      webpack(specs.map(bundleConfig), (error, stats) => {
        if (error) return reject(error);
        if (!stats || stats.hasErrors()) return reject(new Error(stats?.toString({ all: false, errors: true }) ?? 'webpack gave no result'));
        resolve();
      });
    })
  );
}

/**
 * Builds the components named in `only` (default: all), or with `ifStale` only those whose inputs changed
 * since their last build. Returns, per build, its path and whether it was built now.
 * @param {{ ifStale?: boolean, quiet?: boolean, only?: BuildName[] }} [options]
 * @returns {Promise<Partial<Record<BuildName, { built: boolean, path: string, workaround?: { added: string[] } }>>>}
 */
export async function build({ ifStale = false, quiet = false, only = /** @type {BuildName[]} */ (Object.keys(BUILDS)) } = {}) {
  const hash = await inputsHash();
  /** @type {Partial<Record<BuildName, { built: boolean, path: string, workaround?: { added: string[] } }>>} */
  const results = {};
  /** @type {BuildName[]} */
  const stale = [];
  for (const name of only) {
    const spec = BUILDS[name];
    // The world is part of the stamp: the same inputs make a different component per build.
    const current = existsSync(outputPath(spec)) && existsSync(outputPath(spec, 'inputs')) && (await readFile(outputPath(spec, 'inputs'), 'utf8')) === `${hash} ${spec.world}`;
    if (ifStale && current) results[name] = { built: false, path: outputPath(spec) };
    else stale.push(name);
  }
  if (stale.length === 0) return results;

  const log = quiet ? () => {} : (/** @type {string} */ m) => console.error(m);
  const started = Date.now();
  await mkdir(join(root, 'dist'), { recursive: true });
  log(`bundling src/ with webpack (${stale.join(', ')})…`);
  await bundle(stale.map((name) => BUILDS[name]));
  const { componentize } = await import('@bytecodealliance/componentize-js');
  for (const name of stale) {
    const spec = BUILDS[name];
    const componentStarted = Date.now();
    log(`making ${spec.name}.wasm with componentize-js…`);
    const workaround = await installMethodlessResourceWorkaround();
    const { component } = await componentize({
      sourcePath: outputPath(spec, 'js'),
      witPath: join(root, 'wit'),
      worldName: spec.world,
      // @cfworker/json-schema reads `location` when it loads, which runs at build time (the engine is snapshotted).
      runtimeArgs: '--init-location http://component.local/',
    });
    await writeFile(outputPath(spec), component);
    await writeFile(outputPath(spec, 'inputs'), `${hash} ${spec.world}`);
    log(`built ${relative(root, outputPath(spec))} (${(component.length / 1048576).toFixed(2)} MiB) in ${((Date.now() - componentStarted) / 1000).toFixed(1)} s`);
    if (workaround.added.length === 0) {
      // Not an error by itself (ComponentizeJS may have fixed issue 221), but the end-to-end socket tests will say.
      console.error('note: the methodless-resources workaround declared no class: if sockets fail, revisit scripts/methodless-resources.mjs');
    }
    results[name] = { built: true, path: outputPath(spec), workaround };
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return results;
}

// pathToFileURL escapes what a path may hold and a URL may not (space, #, %): compare URLs, not strings made by hand.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await build({ ifStale: process.argv.includes('--if-stale') });
  for (const result of Object.values(results)) if (!result.built) console.error(`${relative(root, result.path)} is current (its inputs are unchanged)`);
}
