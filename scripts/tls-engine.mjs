// The TLS engine (tls-engine/, Rust + rustls) as a committed component, so a machine with only Node needs no Rust.
//
//   node scripts/tls-engine.mjs build   rebuilds tls-engine/prebuilt/tls-engine.wasm from the sources
//   node scripts/tls-engine.mjs check   rebuilds it elsewhere and fails unless it is byte for byte the committed one
//
// Both need cargo with the toolchain that tls-engine/rust-toolchain.toml pins (rustup installs it and the
// wasm32-wasip2 target) and clang (ring's C). The build is reproducible: no path of this checkout, of the
// cargo home or of the toolchain ends up in the output, so any checkout builds the same bytes.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const crate = join(root, 'tls-engine');

/** The committed engine component: what the build composes into the app, and what the local host links. */
export const ENGINE_PATH = join(crate, 'prebuilt', 'tls-engine.wasm');
/** The interface the engine exports and the app imports. */
export const ENGINE_INTERFACE = 'ai-agent-sockets:tls/client@0.1.0';
const TARGET = 'wasm32-wasip2';

/** @param {Uint8Array} bytes */
export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * Builds the engine with cargo into `targetDir`; the path of the component. Paths that would otherwise be
 * embedded (panic locations name source files) are rewritten to fixed prefixes.
 * @param {string} targetDir
 */
export function buildEngine(targetDir) {
  const cargoHome = process.env.CARGO_HOME ?? join(homedir(), '.cargo');
  const rustflags = [`--remap-path-prefix=${root}=/ai-agent-sockets/`, `--remap-path-prefix=${cargoHome}=/cargo/`];
  const result = spawnSync('cargo', ['build', '--release', '--locked', '--target', TARGET, '--target-dir', targetDir], {
    cwd: crate,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      // Wins over any RUSTFLAGS of the caller's environment, so the flags are exactly these.
      CARGO_ENCODED_RUSTFLAGS: rustflags.join('\x1f'),
      // ring's C sources, compiled by clang: the same rewriting for anything that names a file.
      [`CFLAGS_${TARGET.replaceAll('-', '_')}`]: `-ffile-prefix-map=${root}=/ai-agent-sockets/ -ffile-prefix-map=${cargoHome}=/cargo/`,
    },
  });
  if (result.error) throw new Error(`tls-engine: cannot run cargo (${result.error.message}); install Rust with rustup, or use the committed engine`);
  if (result.status !== 0) throw new Error(`tls-engine: cargo build failed (exit ${result.status})`);
  return join(targetDir, TARGET, 'release', 'tls_engine.wasm');
}

function main() {
  const command = process.argv[2];
  if (command === 'build') {
    const built = buildEngine(join(crate, 'target'));
    mkdirSync(join(crate, 'prebuilt'), { recursive: true });
    copyFileSync(built, ENGINE_PATH);
    const bytes = readFileSync(ENGINE_PATH);
    console.log(`${relative(root, ENGINE_PATH)}: ${bytes.length} bytes, sha256 ${sha256(bytes)}`);
  } else if (command === 'check') {
    if (!existsSync(ENGINE_PATH)) throw new Error(`tls-engine: ${relative(root, ENGINE_PATH)} is missing`);
    // A target directory of its own, so nothing cached from an earlier build with other flags is reused.
    const built = readFileSync(buildEngine(join(root, '.cache', 'tls-engine-check')));
    const committed = readFileSync(ENGINE_PATH);
    if (sha256(built) !== sha256(committed)) {
      console.error(`tls-engine: the sources build ${sha256(built)} (${built.length} bytes), but ${relative(root, ENGINE_PATH)} is ${sha256(committed)} (${committed.length} bytes): run \`node scripts/tls-engine.mjs build\` and commit it`);
      process.exit(1);
    }
    console.log(`tls-engine: ${relative(root, ENGINE_PATH)} is what the sources build (sha256 ${sha256(committed)})`);
  } else {
    console.error('usage: node scripts/tls-engine.mjs build|check');
    process.exit(2);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
