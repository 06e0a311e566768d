// The Node with JSPI the local host's second socket mode is tested and measured on (HOST_SOCKETS=worker: socket
// calls on each worker's own thread). The npm package `node` installs the official binary from the registry.
//
//   node scripts/jspi-node.mjs install   installs it into .cache/node-VERSION (once) and prints its path

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Node 24 LTS: the first line with `WebAssembly.Suspending` and `promising` on by default. */
export const JSPI_NODE_VERSION = '24.21.0';

/** Where `install` puts it; the path exists only once installed. */
export const JSPI_NODE_PATH = join(root, '.cache', `node-${JSPI_NODE_VERSION}`, 'node_modules', '.bin', 'node');

/** The installed Node with JSPI, or undefined. */
export function findJspiNode() {
  return existsSync(JSPI_NODE_PATH) ? JSPI_NODE_PATH : undefined;
}

function install() {
  if (findJspiNode()) return JSPI_NODE_PATH;
  const prefix = join(root, '.cache', `node-${JSPI_NODE_VERSION}`);
  // npm's output goes to stderr: stdout carries only the path, for `$(…)` in .ci/run.
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', prefix, `node@${JSPI_NODE_VERSION}`], { stdio: ['ignore', 2, 2] });
  if (npm.status !== 0 || !findJspiNode()) throw new Error(`npm could not install node@${JSPI_NODE_VERSION} into ${prefix}`);
  return JSPI_NODE_PATH;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] !== 'install') {
    console.error('usage: node scripts/jspi-node.mjs install');
    process.exit(2);
  }
  console.log(install());
}
