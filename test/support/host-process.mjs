// Host processes for the tests and the benchmark, in plain Node: start the local host (`npm start`),
// `wasmtime serve` (scripts/wasmtime.mjs's one command line) or `spin up`, wait until GET /health answers,
// and stop them. One definition of each, so the suites and the benchmark run hosts the same way.

import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PORTABLE_COMPONENT_PATH } from '../../scripts/build.mjs';
import { SPIN_TUNING_ENV } from '../../scripts/spin-tuning.mjs';
import { SERVING_LINE, tuningFor, wasmtimeServeArgs } from '../../scripts/wasmtime.mjs';
import { freePort } from './tcp-peers.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** What `npm start` prints once it listens (host/start.mjs). */
const LISTENING_LINE = /listening on (http:\/\/\S+)/;
/** How long a host may take to answer /health: a cold local start transpiles the component. */
const START_LIMIT_MS = 180_000;

/**
 * @typedef {object} RunningHost
 * @property {string} url
 * @property {number} pid
 * @property {number} startMs From spawning the process to the first 200 of GET /health.
 * @property {() => Promise<void>} close SIGTERM, then SIGKILL if it is still running after 15 s.
 * @property {() => string} log Everything the process printed so far, for failure messages.
 * @property {Promise<number | null>} exited Resolves with the exit code when the process ends.
 */

/**
 * Whether `command` is on PATH (spin, wasmtime).
 * @param {string} command
 */
export function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/**
 * Ends `child`: SIGTERM, SIGKILL after 15 s.
 * @param {import('node:child_process').ChildProcess} child
 * @returns {Promise<void>}
 */
function stopProcess(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Whether `GET /health` at `url` answers 200 from this process.
 * @param {string} url
 */
const answersHealth = (url) => fetch(`${url}/health`).then((r) => r.status === 200, () => false);

/**
 * Spawns a host process in the repository root and resolves once `GET /health` answers 200 at the URL
 * `urlFrom` finds in its output; rejects (with the process stopped) when it exits or takes too long.
 * @param {string} command
 * @param {string[]} args
 * @param {{ env?: Record<string, string>, urlFrom: (output: string) => string | undefined, ready?: (url: string) => Promise<boolean> }} options
 *   `env` is added to this process's environment; `ready` asks whether the host answers (by default GET /health from here).
 * @returns {Promise<RunningHost>}
 */
export async function spawnHost(command, args, { env = {}, urlFrom, ready = answersHealth }) {
  const started = performance.now();
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}:\n${output}`);
    if (performance.now() - started > START_LIMIT_MS) {
      await stopProcess(child);
      throw new Error(`${command} did not answer GET /health in time:\n${output}`);
    }
    const url = urlFrom(output);
    if (url && (await ready(url))) {
      return { url, pid: child.pid ?? 0, startMs: performance.now() - started, close: () => stopProcess(child), log: () => output, exited };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * `npm start` on 127.0.0.1 and a free port; `env` holds component settings and host settings (POOL_SIZE…),
 * `node` the Node that runs it (by default this one). `launcher`: a command that runs it (`ip netns exec NAME`),
 * with `ready` asking whether it answers from where it runs.
 * @param {Record<string, string>} [env]
 * @param {string} [node]
 * @param {{ launcher?: string[], ready?: (url: string) => Promise<boolean> }} [options]
 */
export function startLocalHost(env = {}, node = process.execPath, { launcher = [], ready } = {}) {
  const [command = node, ...args] = [...launcher, node, 'host/start.mjs'];
  return spawnHost(command, args, { env: { PORT: '0', HOST: '127.0.0.1', ...env }, urlFrom: (log) => LISTENING_LINE.exec(log)?.[1], ready });
}

/**
 * `wasmtime serve` with the README's command line on 127.0.0.1 and a port of its own choosing; component
 * settings go in as `--env`. `tuning`: the allocator options (by default the shipped ones `binary` knows),
 * `extra`: further options (instance reuse).
 * @param {{ binary: string, env?: Record<string, string>, nameLookup?: boolean, tuning?: readonly string[], extra?: readonly string[], component?: string }} options
 */
export function startWasmtimeHost({ binary, env = {}, nameLookup = true, tuning = tuningFor(binary), extra = [], component = PORTABLE_COMPONENT_PATH }) {
  return spawnHost(binary, wasmtimeServeArgs({ addr: '127.0.0.1:0', env, nameLookup, component, tuning, extra }), { urlFrom: (log) => SERVING_LINE.exec(log)?.[1] });
}

/**
 * `spin up` of spin.toml on 127.0.0.1 and a free port. Settings go in as Spin variables (`--variable
 * name=value`, lowercased), as a deployment gives them: spin.toml's variables win over `--env`.
 * @param {Record<string, string>} [settings]
 */
export async function startSpinHost(settings = {}) {
  const port = await freePort();
  const variables = Object.entries(settings).flatMap(([name, value]) => ['--variable', `${name.toLowerCase()}=${value}`]);
  // Spin 4 writes each component's stderr twice: to its own stderr (every component is followed unless
  // `--quiet` or `--follow` says otherwise) and to a file in its log directory (`.spin/logs` beside the manifest
  // by default). `--log-dir ""` turns the files off, so the process's output is the one place the audit lines
  // are, each once, and nothing is written to the work tree or to /tmp.
  // With the allocator settings docs/HOSTS.md gives (scripts/spin-tuning.mjs), in Spin's own environment.
  return spawnHost('spin', ['up', '--from', 'spin.toml', '--listen', `127.0.0.1:${port}`, '--log-dir', '', ...variables], {
    env: { ...SPIN_TUNING_ENV },
    urlFrom: () => `http://127.0.0.1:${port}`,
  });
}
