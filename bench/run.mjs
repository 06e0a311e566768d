// `npm run bench`: the component on the local host, on wasmtime (the shipped command, the same without its
// allocator tuning, and with instance reuse) and on `spin up` (when on PATH, with the settings docs/HOSTS.md
// gives) side by side with a plain Node HTTP→TCP proxy (the baseline), against the same loopback peers, in one
// run. Prints the table;
// `npm run bench -- --save` also writes bench/results.json and docs/BENCHMARKS.md (tracked files).
// BENCH_SECONDS sets the length of each run (default 10). TLS rows (issue 15): a TLS handshake and the echo inside
// it at 1 and 10 connections, beside the baseline doing the same with node:tls, and a 1 MiB reply with and without TLS.

import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { HAS_JSPI } from '../host/settings.mjs';
import { CACHE_DIR } from '../host/transpile-cache.mjs';
import { findJspiNode } from '../scripts/jspi-node.mjs';
import { PORTABLE_COMPONENT_PATH } from '../scripts/build.mjs';
import { INSTANCE_REUSE, findWasmtime, wasmtimeVersion } from '../scripts/wasmtime.mjs';
import { onPath, spawnHost, startLocalHost, startSpinHost, startWasmtimeHost } from '../test/support/host-process.mjs';
import { echoAndClosePeer, silentPeer } from '../test/support/tcp-peers.mjs';
import { bulkPeer, tlsEchoAndClosePeer } from '../test/support/tls-peers.mjs';
import { makePki } from '../scripts/demo-pki.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
/** Only an explicit request rewrites the tracked results. */
const SAVE = process.argv.includes('--save');

/**
 * @typedef {{ rps: number, p50: number, p99: number, errors: number, requests: number }} Load
 * @typedef {{ peakMiB: number, rps: number, errors: number }} Memory
 * @typedef {{ plainMs: number, tlsMs: number }} Mebibyte
 * @typedef {{ health1: Load, health10: Load, send1: Load, send10: Load, headOfLine: Load, memory: Memory, startMs: number, tls1: Load, tls10: Load, mebibyte: Mebibyte, udp10?: Load }} Rows
 * @typedef {import('../test/support/host-process.mjs').RunningHost} Started
 */

// ---- peers -------------------------------------------------------------------------------------------

/** Answers `echo:` + the message and closes: a request/response peer that does not make the proxy wait. */
const echoServer = await echoAndClosePeer();
/** Accepts and never answers: what head-of-line blocking is measured with. */
const silentServer = await silentPeer();
const echoPort = echoServer.port;
const silentPort = silentServer.port;
/** TLS (TLS 1.3, an ECDSA P-256 certificate from a CA made for the run): the same echo, and 1 MiB replies with and without it. */
const pki = makePki();
const MEBIBYTE = Buffer.alloc(1 << 20, 'abcdefghijklmnopqrstuvwxyz');
const tlsEchoServer = await tlsEchoAndClosePeer(pki.good);
const bulkServer = await bulkPeer(undefined, MEBIBYTE);
/** UDP: answers each datagram with `echo:` + the datagram (issue 25's row: /udp/send on each host). */
const udpEchoServer = createSocket('udp4');
udpEchoServer.on('message', (data, from) => udpEchoServer.send(Buffer.concat([Buffer.from('echo:'), data]), from.port, from.address));
await new Promise((resolve) => udpEchoServer.bind(0, '127.0.0.1', () => resolve(undefined)));
const tlsBulkServer = await bulkPeer(pki.good, MEBIBYTE);

// ---- hosts -------------------------------------------------------------------------------------------

const COMPONENT_ENV = { ALLOWED_TARGETS: '127.0.0.0/8:*', REQUEST_DEADLINE_MS: '60000', TLS_CA_CERTS: pki.caPem };
/**
 * @param {Record<string, string>} [hostEnv] host settings (HOST_SOCKETS)
 * @param {string} [node]
 */
const startLocal = (hostEnv = {}, node = process.execPath) => startLocalHost({ ...COMPONENT_ENV, ...hostEnv }, node);
const startBaseline = () => spawnHost(process.execPath, ['bench/baseline-proxy.mjs'], { env: { TLS_CA_CERTS: pki.caPem }, urlFrom: (log) => /listening on (http:\/\/\S+)/.exec(log)?.[1] });
const wasmtime = findWasmtime();
/**
 * `wasmtime serve` with the README's command line: its allocator options (`tuning`, the shipped ones this
 * release knows by default) and `extra` options.
 * @param {{ tuning?: string[], extra?: string[] }} [options]
 */
const startWasmtime = ({ tuning, extra } = {}) => startWasmtimeHost({ binary: /** @type {string} */ (wasmtime), env: COMPONENT_ENV, tuning, extra });
/** `spin up` with the settings as Spin variables, as a deployment gives them, and the allocator settings docs/HOSTS.md gives. */
const startSpin = () => startSpinHost(COMPONENT_ENV);

// ---- measurements ------------------------------------------------------------------------------------

/**
 * @param {string} url
 * @param {number} connections
 * @returns {Promise<Load>}
 */
async function load(url, connections, seconds = SECONDS) {
  const result = await autocannon({ url, connections, duration: seconds });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

const sendPath = () => `/tcp/send?host=127.0.0.1&port=${echoPort}&msg=hello`;
/** A TLS handshake and the same echo inside it. */
/** One datagram to the UDP echo, its reply the answer (the baseline proxy speaks TCP only: components only). */
const udpSendPath = () => `/udp/send?host=127.0.0.1&port=${udpEchoServer.address().port}&msg=hello`;
const tlsSendPath = () => `/tcp/send?host=127.0.0.1&port=${tlsEchoServer.port}&msg=hello&tls=true`;

/**
 * Milliseconds for a 1 MiB reply with and without TLS: the median of 7 requests one after another.
 * @param {string} url
 * @returns {Promise<Mebibyte>}
 */
async function mebibyte(url) {
  const median = async (/** @type {string} */ path) => {
    const times = [];
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      const r = await fetch(`${url}${path}`);
      const body = await r.arrayBuffer();
      if (r.status !== 200 || body.byteLength !== MEBIBYTE.length) throw new Error(`1 MiB reply: ${r.status}, ${body.byteLength} bytes`);
      times.push(performance.now() - started);
    }
    return Math.round((times.sort((a, b) => a - b)[3] ?? 0) * 10) / 10;
  };
  return {
    plainMs: await median(`/tcp/send?host=127.0.0.1&port=${bulkServer.port}&msg=go`),
    tlsMs: await median(`/tcp/send?host=127.0.0.1&port=${tlsBulkServer.port}&msg=go&tls=true`),
  };
}

/**
 * /tcp/send at 10 connections while 4 requests hang on a silent peer.
 * @param {string} url
 */
async function headOfLine(url) {
  const silentConnections = () => silentServer.openConnections();
  const before = await silentConnections();
  const stuck = Array.from({ length: 4 }, () =>
    fetch(`${url}/tcp/send?host=127.0.0.1&port=${silentPort}&msg=x`, { signal: AbortSignal.timeout(120_000) }).catch(() => {}),
  );
  // Measure only once all four hold a connection to the silent peer.
  while ((await silentConnections()) < before + stuck.length) await new Promise((r) => setTimeout(r, 20));
  const measured = await load(`${url}${sendPath()}`, 10);
  return { measured, stuck };
}

/**
 * Resident memory of a process now, from /proc (Linux), in bytes.
 * @param {number} pid
 */
async function rssBytes(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/**
 * Peak resident memory while 100 connections send to the echo peer, sampled every 20 ms.
 * @param {string} url
 * @param {number} pid
 * @returns {Promise<Memory>}
 */
async function peakRssUnderLoad(url, pid) {
  let peak = await rssBytes(pid);
  const sampler = setInterval(async () => (peak = Math.max(peak, await rssBytes(pid))), 20);
  const result = await load(`${url}${sendPath()}`, 100, Math.min(SECONDS, 5));
  clearInterval(sampler);
  return { peakMiB: Math.round(peak / 2 ** 20), rps: result.rps, errors: result.errors };
}

/**
 * @param {string} name
 * @param {Started} host
 * @returns {Promise<{ rows: Rows, pending: Promise<unknown>[] }>}
 */
async function measure(name, host) {
  console.error(`measuring ${name}…`);
  await load(`${host.url}${sendPath()}`, 10, WARMUP_SECONDS);
  await load(`${host.url}/health`, 10, WARMUP_SECONDS);
  const health1 = await load(`${host.url}/health`, 1);
  const health10 = await load(`${host.url}/health`, 10);
  const send1 = await load(`${host.url}${sendPath()}`, 1);
  const send10 = await load(`${host.url}${sendPath()}`, 10);
  const hol = await headOfLine(host.url);
  const memory = await peakRssUnderLoad(host.url, host.pid);
  await load(`${host.url}${tlsSendPath()}`, 10, WARMUP_SECONDS);
  const tls1 = await load(`${host.url}${tlsSendPath()}`, 1);
  const tls10 = await load(`${host.url}${tlsSendPath()}`, 10);
  const mib = await mebibyte(host.url);
  const udp10 = name.startsWith('baseline') ? undefined : await load(`${host.url}${udpSendPath()}`, 10);
  return { rows: { health1, health10, send1, send10, headOfLine: hol.measured, memory, startMs: Math.round(host.startMs), tls1, tls10, mebibyte: mib, ...(udp10 && { udp10 }) }, pending: hol.stuck };
}

// ---- run ---------------------------------------------------------------------------------------------

if (!existsSync(PORTABLE_COMPONENT_PATH)) spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
const wasm = await readFile(PORTABLE_COMPONENT_PATH);

/** @type {{ hosts: Record<string, Rows | { skipped: string }>, [key: string]: unknown }} */
const results = { hosts: {} };
/** @type {Promise<unknown>[]} */
const pending = [];
/**
 * @param {string} name
 * @param {Started} host
 * @returns {Promise<Rows>}
 */
const run = async (name, host) => {
  const m = await measure(name, host);
  results.hosts[name] = m.rows;
  pending.push(...m.pending);
  return m.rows;
};
const baseline = await startBaseline();
const base = await run('baseline (plain Node proxy)', baseline);
await baseline.close();
await rm(CACHE_DIR, { recursive: true, force: true });
const cold = await startLocal();
await cold.close();
const local = await startLocal(); // warm: the transpiled component is cached now
/** @type {{ coldMs: number, warmMs: number, wasmtimeColdMs?: number }} */
const startup = { coldMs: Math.round(cold.startMs), warmMs: Math.round(local.startMs) };
const IN_THREAD = "sockets on the workers' threads";
const IO_THREAD = 'sockets through the I/O thread';
await run(`component (local host, Node ${process.versions.node}, ${HAS_JSPI ? IN_THREAD : IO_THREAD})`, local);
await local.close();
// Both socket modes in one run: on a Node with JSPI, the I/O-thread mode too; on one without, the in-thread mode
// on the Node `node scripts/jspi-node.mjs install` put in .cache (CI installs it), when it is there.
/** @type {[string, Record<string, string>, string][]} */
const localVariants = [];
const jspiNode = findJspiNode();
if (HAS_JSPI) localVariants.push([`component (local host, Node ${process.versions.node}, ${IO_THREAD})`, { HOST_SOCKETS: 'io-thread' }, process.execPath]);
else if (jspiNode) {
  const version = spawnSync(jspiNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
  localVariants.push([`component (local host, Node ${version}, ${IN_THREAD})`, {}, jspiNode]);
} else {
  results.hosts["component (local host, sockets on the workers' threads)"] = { skipped: 'needs Node 24+: node scripts/jspi-node.mjs install' };
}
for (const [name, hostEnv, node] of localVariants) {
  const host = await startLocal(hostEnv, node);
  await run(name, host);
  await host.close();
}
if (wasmtime) {
  const version = wasmtimeVersion(wasmtime);
  // Cold: wasmtime compiles the component (its cache off); the rows below start warm from its compile cache.
  const coldWasmtime = await startWasmtime({ extra: ['-C', 'cache=n'] });
  startup.wasmtimeColdMs = Math.round(coldWasmtime.startMs);
  await coldWasmtime.close();
  /** @type {[string, { tuning?: string[], extra?: string[] }][]} */
  const variants = [
    [`component (wasmtime serve ${version}, shipped command)`, {}],
    [`component (wasmtime serve ${version}, without its allocator options)`, { tuning: [] }],
    [`component (wasmtime serve ${version}, shipped command + instance reuse)`, { extra: INSTANCE_REUSE }],
  ];
  // BENCH_WASMTIME_TUNING='-O …' adds a row with other allocator options, to compare against the shipped ones.
  if (process.env.BENCH_WASMTIME_TUNING) {
    variants.push([`component (wasmtime serve ${version}, ${process.env.BENCH_WASMTIME_TUNING})`, { tuning: process.env.BENCH_WASMTIME_TUNING.split(/\s+/) }]);
  }
  for (const [name, options] of variants) {
    const host = await startWasmtime(options);
    await run(name, host);
    await host.close();
  }
} else {
  results.hosts['component (wasmtime serve)'] = { skipped: 'wasmtime is not installed (node scripts/wasmtime.mjs install)' };
}
if (onPath('spin')) {
  const host = await startSpin();
  await run('component (spin up)', host);
  await host.close();
} else {
  results.hosts['component (spin up)'] = { skipped: 'spin is not on PATH' };
}

const cpus = os.cpus();
const machine = {
  cpu: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  node: process.version,
};
const size = { rawBytes: wasm.length, gzipBytes: gzipSync(wasm, { level: 9 }).length };
const date = new Date().toISOString();
/**
 * The goals of issue 17 (same run, `/tcp/send` at 10 connections as a share of the baseline).
 * @type {Record<string, { value: string, met: boolean }>}
 */
const targets = {};
/** @param {Rows} rows */
const share = (rows) => rows.send10.rps / base.send10.rps;
/**
 * @param {string} name
 * @param {string} value
 * @param {boolean} met
 */
const target = (name, value, met) => (targets[name] = { value, met });
/** @type {[RegExp, number][]} */
const shareGoals = [
  [/^component \(local host/, 0.15],
  [/shipped command\)$/, 0.12],
  [/instance reuse\)$/, 0.3],
  [/^component \(spin up\)$/, 0.1],
];
for (const [name, rows] of Object.entries(results.hosts)) {
  if ('skipped' in rows || name.startsWith('baseline')) continue;
  const label = name.replace(/^component \((.*)\)$/, '$1');
  const goal = shareGoals.find(([pattern]) => pattern.test(name))?.[1];
  if (goal !== undefined) target(`${label}: /tcp/send ≥ ${goal * 100}% of baseline (10 connections)`, `${(share(rows) * 100).toFixed(1)}%`, share(rows) >= goal);
  target(`${label}: head-of-line p99 ≤ 50 ms, no errors`, `${rows.headOfLine.p99} ms, ${rows.headOfLine.errors} errors`, rows.headOfLine.p99 <= 50 && rows.headOfLine.errors === 0);
  if (/shipped command\)$/.test(name)) {
    target(`${label}: /health ≥ 2,000 req/s (10 connections)`, `${rows.health10.rps} req/s`, rows.health10.rps >= 2000);
    target(`${label}: peak RSS ≤ 400 MiB (100 connections)`, `${rows.memory.peakMiB} MiB`, rows.memory.peakMiB <= 400);
  }
  if (/^component \(local host/.test(name)) target(`${label}: /tcp/send p99 ≤ 50 ms (10 connections)`, `${rows.send10.p99} ms`, rows.send10.p99 <= 50);
  // Issue 15's goals: TLS echo at 10 connections on wasmtime with instance reuse; a 1 MiB reply over TLS everywhere.
  if (/instance reuse\)$/.test(name)) {
    target(`${label}: TLS echo ≥ 25% of the node:tls baseline (10 connections)`, `${((rows.tls10.rps / base.tls10.rps) * 100).toFixed(1)}%`, rows.tls10.rps >= base.tls10.rps * 0.25);
  }
  target(`${label}: 1 MiB over TLS ≤ 2× plaintext`, `${(rows.mebibyte.tlsMs / rows.mebibyte.plainMs).toFixed(2)}×`, rows.mebibyte.tlsMs <= 2 * rows.mebibyte.plainMs);
}
target('npm start → first 200 /health ≤ 5 s (warm cache)', `${(startup.warmMs / 1000).toFixed(2)} s`, startup.warmMs <= 5000);

Object.assign(results, {
  machine,
  startup,
  size,
  settings: { seconds: SECONDS, peers: 'loopback echo peer that closes after replying; silent peer for head-of-line; the echo behind node:tls (TLS 1.3, ECDSA P-256, a CA made for the run); 1 MiB senders with and without TLS' },
  date,
  targets,
});

function table() {
  const lines = [
    '| host | /health c=1 | /health c=10 | /tcp/send c=1 | /tcp/send c=10 | /tcp/send c=10, 4 stuck on a silent peer | start → first 200 | peak RSS, /tcp/send c=100 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const cell = (/** @type {Load} */ r) => `${r.rps} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.errors} errors`;
  for (const [name, rows] of Object.entries(results.hosts)) {
    if ('skipped' in rows) lines.push(`| ${name} | skipped: ${rows.skipped} | | | | | | |`);
    else {
      const memory = `${rows.memory.peakMiB} MiB (${rows.memory.rps} req/s, ${rows.memory.errors} errors)`;
      lines.push(`| ${name} | ${cell(rows.health1)} | ${cell(rows.health10)} | ${cell(rows.send1)} | ${cell(rows.send10)} | ${cell(rows.headOfLine)} | ${(rows.startMs / 1000).toFixed(2)} s | ${memory} |`);
    }
  }
  const keys = /** @type {const} */ (['health1', 'health10', 'send1', 'send10', 'headOfLine']);
  lines.push('', '| share of the baseline | /health c=1 | /health c=10 | /tcp/send c=1 | /tcp/send c=10 | head-of-line |', '| --- | --- | --- | --- | --- | --- |');
  for (const [name, rows] of Object.entries(results.hosts)) {
    if ('skipped' in rows || name.startsWith('baseline')) continue;
    lines.push(`| ${name} | ${keys.map((key) => `${((rows[key].rps / base[key].rps) * 100).toFixed(1)}%`).join(' | ')} |`);
  }
  lines.push('', '| host | TLS handshake + echo c=1 | TLS handshake + echo c=10 | 1 MiB reply, plaintext | 1 MiB reply, TLS | UDP echo (/udp/send) c=10 |', '| --- | --- | --- | --- | --- | --- |');
  for (const [name, rows] of Object.entries(results.hosts)) {
    if ('skipped' in rows) continue;
    lines.push(`| ${name} | ${cell(rows.tls1)} | ${cell(rows.tls10)} | ${rows.mebibyte.plainMs} ms | ${rows.mebibyte.tlsMs} ms | ${rows.udp10 ? cell(rows.udp10) : 'n/a (TCP only)'} |`);
  }
  lines.push('', '| target | measured | met |', '| --- | --- | --- |');
  for (const [name, t] of Object.entries(targets)) lines.push(`| ${name} | ${t.value} | ${t.met ? 'yes' : '**no**'} |`);
  lines.push(
    '',
    `Start-up (\`npm start\` → first 200 /health): cold ${(startup.coldMs / 1000).toFixed(2)} s (transpiles the component), warm ${(startup.warmMs / 1000).toFixed(2)} s (cached).` +
      (startup.wasmtimeColdMs ? ` \`wasmtime serve\`: cold ${(startup.wasmtimeColdMs / 1000).toFixed(2)} s (compiles the component, its cache off); warm in the table (compile cache).` : ''),
    `Component size: ${(size.rawBytes / 2 ** 20).toFixed(1)} MiB raw, ${(size.gzipBytes / 2 ** 20).toFixed(1)} MiB gzip.`,
    `Machine: ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}. ${SECONDS} s per run, autocannon in the benchmark process, hosts in their own processes.`,
  );
  return lines.join('\n');
}

const rendered = table();
console.log(rendered);
if (SAVE) {
  await writeFile(`${root}bench/results.json`, `${JSON.stringify(results, null, 2)}\n`);
  const doc = await readFile(`${root}docs/BENCHMARKS.md`, 'utf8').catch(() => '');
  const marker = /<!-- results -->[\s\S]*<!-- \/results -->/;
  const block = `<!-- results -->\nMeasured ${date.slice(0, 10)} by \`npm run bench -- --save\`.\n\n${rendered}\n<!-- /results -->`;
  await writeFile(`${root}docs/BENCHMARKS.md`, marker.test(doc) ? doc.replace(marker, block) : `# Benchmarks\n\n${block}\n`);
  console.error('saved to bench/results.json and docs/BENCHMARKS.md');
} else {
  console.error('not saved: `npm run bench -- --save` writes bench/results.json and docs/BENCHMARKS.md');
}

await Promise.all([echoServer.close(), silentServer.close(), tlsEchoServer.close(), bulkServer.close(), tlsBulkServer.close(), new Promise((resolve) => udpEchoServer.close(() => resolve(undefined)))]);
pki.remove();
process.exit(0);
