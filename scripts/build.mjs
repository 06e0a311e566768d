// Builds the components: webpack bundles each entry of src/ into one ES module, componentize-js makes the
// component of its world (the app, dist/NAME.app.wasm, which imports the TLS engine), and `wac plug` composes
// it with the committed TLS engine (tls-engine/prebuilt/tls-engine.wasm) into one component, dist/NAME.wasm,
// for wasmtime, Spin and the container. One source, two builds: dist/ai-agent-sockets.wasm (portable: settings
// from the environment) and dist/ai-agent-sockets-spin.wasm (settings from Spin variables first).
// The local host needs no composition (it links the app and the engine itself), so without wac (a machine with
// only Node) the app is built and the composed file is left out, with a note.
// `--if-stale` skips each build whose inputs (sources, WIT, build files, engine, lockfile) are unchanged;
// `--only=portable` (or spin) builds that one; `--stamp-packed` (npm's prepack) marks the app as current for a
// packed copy of the package, which ships no lockfile (see packedStampPath).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installMethodlessResourceWorkaround } from './methodless-resources.mjs';
import { ENGINE_PATH } from './tls-engine.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const INPUTS = ['src', 'wit', 'scripts/build.mjs', 'scripts/methodless-resources.mjs', 'webpack.config.js', 'package-lock.json', 'tls-engine/prebuilt'];

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
/** The composed portable component (app + TLS engine, absolute path): what wasmtime and the container run. */
export const PORTABLE_COMPONENT_PATH = outputPath(BUILDS.portable);
/** The composed Spin build (absolute path). */
export const SPIN_COMPONENT_PATH = outputPath(BUILDS.spin);
/** The apps alone, importing ai-agent-sockets:tls/client: what the local host links with the engine. */
export const APP_COMPONENT_PATH = outputPath(BUILDS.portable, 'app.wasm');
export const SPIN_APP_COMPONENT_PATH = outputPath(BUILDS.spin, 'app.wasm');

/** The wac-cli release the composition is tested with (`cargo install wac-cli --locked --version …`). */
export const WAC_VERSION = '0.12.0';

/**
 * The composition tool: $WAC, else `wac` on PATH, in cargo's bin directory or in .cache/wac (where .ci/run
 * installs it); undefined when there is none.
 */
export function findWac() {
  const candidates = [
    process.env.WAC,
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'wac')),
    join(process.env.CARGO_HOME ?? join(homedir(), '.cargo'), 'bin', 'wac'),
    join(root, '.cache', 'wac', 'bin', 'wac'),
  ];
  return candidates.find((path) => path && existsSync(path));
}

/**
 * Plugs the TLS engine into `appPath` (its one import of ai-agent-sockets:tls/client): one component at `outPath`.
 * @param {string} wac @param {string} appPath @param {string} outPath
 */
function compose(wac, appPath, outPath) {
  const result = spawnSync(wac, ['plug', appPath, '--plug', ENGINE_PATH, '-o', outPath], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`wac plug failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}`);
}

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

/**
 * The lockfile is a build input in a checkout, but `npm pack` never ships one: an installed package would see
 * other inputs than the build did and rebuild on its first start. So the packed app carries a second stamp, made
 * by `--stamp-packed` over the inputs without the lockfile, and it counts only where there is no lockfile.
 */
const LOCKFILE = 'package-lock.json';
/** @param {string} appPath */
const packedStampPath = (appPath) => `${appPath}.packed-inputs`;

/** A build's stamp: the world is part of it, since the same inputs make a different component per build. */
const stampFor = (/** @type {string} */ hash, /** @type {BuildName} */ name) => `${hash} ${BUILDS[name].world}`;

/** A hash of every build input, so a stale component is rebuilt and a current one is not. */
async function inputsHash({ withoutLockfile = false } = {}) {
  const hash = createHash('sha256');
  const inputs = withoutLockfile ? INPUTS.filter((input) => input !== LOCKFILE) : INPUTS;
  const files = (await Promise.all(inputs.map(filesUnder))).flat().sort();
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
  const wac = findWac();
  /** Whether `path` was built from the current inputs. @param {string} path @param {BuildName} n */
  const stamped = async (path, n) => existsSync(path) && ((await stampOf(`${path}.inputs`)) === stampFor(hash, n) || (!existsSync(join(root, LOCKFILE)) && (await stampOf(packedStampPath(path))) === stampFor(hash, n)));
  for (const name of only) {
    const spec = BUILDS[name];
    const appCurrent = await stamped(outputPath(spec, 'app.wasm'), name);
    const composedCurrent = await stamped(outputPath(spec), name);
    if (ifStale && appCurrent && (composedCurrent || !wac)) results[name] = { built: false, path: wac ? outputPath(spec) : outputPath(spec, 'app.wasm') };
    else stale.push(name);
  }
  if (stale.length === 0) return results;

  const log = quiet ? () => {} : (/** @type {string} */ m) => console.error(m);
  const started = Date.now();
  await mkdir(join(root, 'dist'), { recursive: true });
  // Apps whose inputs are unchanged are only composed again (wac arrived since, or the composed file went).
  /** @type {BuildName[]} */
  const toBundle = [];
  for (const n of stale) if (!(ifStale && (await stamped(outputPath(BUILDS[n], 'app.wasm'), n)))) toBundle.push(n);
  if (toBundle.length > 0) {
    log(`bundling src/ with webpack (${toBundle.join(', ')})…`);
    await bundle(toBundle.map((n) => BUILDS[n]));
  }
  for (const n of stale) {
    const spec = BUILDS[n];
    const appPath = outputPath(spec, 'app.wasm');
    /** @type {{ added: string[] } | undefined} */
    let workaround;
    if (toBundle.includes(n)) {
      const componentStarted = Date.now();
      log(`making ${spec.name}.app.wasm with componentize-js…`);
      workaround = await installMethodlessResourceWorkaround();
      const { componentize } = await import('@bytecodealliance/componentize-js');
      const { component } = await componentize({
        sourcePath: outputPath(spec, 'js'),
        witPath: join(root, 'wit'),
        worldName: spec.world,
        // @cfworker/json-schema reads `location` when it loads, which runs at build time (the engine is snapshotted).
        runtimeArgs: '--init-location http://component.local/',
      });
      await writeFile(appPath, component);
      await writeFile(`${appPath}.inputs`, stampFor(hash, n));
      log(`built ${relative(root, appPath)} (${(component.length / 1048576).toFixed(2)} MiB) in ${((Date.now() - componentStarted) / 1000).toFixed(1)} s`);
      if (workaround.added.length === 0) {
        // Not an error by itself (ComponentizeJS may have fixed issue 221), but the end-to-end socket tests will say.
        console.error('note: the methodless-resources workaround declared no class: if sockets fail, revisit scripts/methodless-resources.mjs');
      }
    }
    const composedPath = outputPath(spec);
    // A composed file from older inputs must not outlive them: wasmtime would run stale code.
    await rm(composedPath, { force: true });
    await rm(`${composedPath}.inputs`, { force: true });
    if (wac) {
      compose(wac, appPath, composedPath);
      await writeFile(`${composedPath}.inputs`, stampFor(hash, n));
      log(`composed ${relative(root, composedPath)} (app + TLS engine, ${((await readFile(composedPath)).length / 1048576).toFixed(2)} MiB)`);
      results[n] = { built: true, path: composedPath, ...(workaround && { workaround }) };
    } else {
      log(`note: wac (cargo install wac-cli --locked --version ${WAC_VERSION}) is not installed, so ${relative(root, composedPath)} (app + TLS engine, for wasmtime, Spin and the container) was not made; the local host runs without it`);
      results[n] = { built: true, path: appPath, ...(workaround && { workaround }) };
    }
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return results;
}

/** @param {string} path a stamp file's @returns {Promise<string | undefined>} */
async function stampOf(path) {
  return existsSync(path) ? readFile(path, 'utf8') : undefined;
}

/**
 * Marks each current app (of `only`) as current for a packed copy of the package (no lockfile); refuses when an
 * app is not current, since a tarball must not ship a component its sources did not make.
 * @param {BuildName[]} only
 */
export async function stampPacked(only) {
  const [hash, packedHash] = await Promise.all([inputsHash(), inputsHash({ withoutLockfile: true })]);
  for (const name of only) {
    const appPath = outputPath(BUILDS[name], 'app.wasm');
    if ((await stampOf(`${appPath}.inputs`)) !== stampFor(hash, name)) throw new Error(`${relative(root, appPath)} is not current: build it before packing`);
    await writeFile(packedStampPath(appPath), stampFor(packedHash, name));
  }
}

// pathToFileURL escapes what a path may hold and a URL may not (space, #, %): compare URLs, not strings made by hand.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const onlyArg = process.argv.find((arg) => arg.startsWith('--only='));
  const only = onlyArg === undefined ? undefined : /** @type {BuildName[]} */ (onlyArg.slice('--only='.length).split(','));
  for (const name of only ?? []) if (!Object.hasOwn(BUILDS, name)) throw new Error(`--only=${name}: expected one of ${Object.keys(BUILDS).join(', ')}`);
  const results = await build({ ifStale: process.argv.includes('--if-stale'), ...(only && { only }) });
  for (const result of Object.values(results)) if (!result.built) console.error(`${relative(root, result.path)} is current (its inputs are unchanged)`);
  if (process.argv.includes('--stamp-packed')) await stampPacked(only ?? /** @type {BuildName[]} */ (Object.keys(BUILDS)));
}
