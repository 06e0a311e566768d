// `npm run bench`: the component on the local host (and on wasmtime / Spin when on PATH) side by side with
// a plain Node HTTP→TCP proxy (the baseline), against the same loopback peers. Prints the table;
// `npm run bench -- --save` also writes bench/results.json and docs/BENCHMARKS.md (tracked files).
// BENCH_SECONDS sets the length of each run (default 10).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { CACHE_DIR } from '../host/transpile-cache.mjs';
import { INSTANCE_REUSE, SERVING_LINE, findWasmtime, wasmtimeServeArgs, wasmtimeVersion } from '../scripts/wasmtime.mjs';
import tls from 'node:tls';
import { makePki } from '../scripts/demo-pki.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const COMPONENT = `${root}dist/ai-agent-sockets.wasm`;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
/** Only an explicit request rewrites the tracked results. */
const SAVE = process.argv.includes('--save');

/**
 * @typedef {{ rps: number, p50: number, p99: number, errors: number, requests: number }} Load
 * @typedef {{ peakMiB: number, rps: number, errors: number }} Memory
 * @typedef {{ plainMs: number, tlsMs: number }} Mebibyte
 * @typedef {{ health1: Load, health10: Load, send1: Load, send10: Load, headOfLine: Load, memory: Memory, startMs: number, tls1: Load, tls10: Load, mebibyte: Mebibyte }} Rows
 * @typedef {{ url: string, pid: number, startMs: number, stop: () => Promise<void> }} Started
 */

// ---- peers -------------------------------------------------------------------------------------------

/**
 * @param {net.Server} server
 * @returns {Promise<number>}
 */
function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(/** @type {net.AddressInfo} */ (server.address()).port)));
}
/** Answers `echo:` + the message and closes: a request/response peer that does not make the proxy wait. */
const echoServer = net.createServer((s) => {
  s.on('error', () => {});
  s.once('data', (d) => s.end(Buffer.concat([Buffer.from('echo:'), d])));
});
/** Accepts and never answers: what head-of-line blocking is measured with. */
const silentServer = net.createServer((s) => s.on('error', () => {}));
const echoPort = await listen(echoServer);
const silentPort = await listen(silentServer);

// TLS: the same echo behind node:tls, and 1 MiB replies with and without TLS, with a CA made for the run.
const pki = makePki();
const MEBIBYTE = Buffer.alloc(1 << 20, 'abcdefghijklmnopqrstuvwxyz');
const tlsEchoServer = tls.createServer({ key: pki.good.key, cert: pki.good.cert }, (s) => {
  s.on('error', () => {});
  s.once('data', (d) => s.end(Buffer.concat([Buffer.from('echo:'), d])));
});
/** @param {import('node:net').Socket} s */
const sendMebibyte = (s) => {
  s.on('error', () => {});
  s.once('data', () => s.end(MEBIBYTE));
};
const bulkServer = net.createServer(sendMebibyte);
const tlsBulkServer = tls.createServer({ key: pki.good.key, cert: pki.good.cert }, sendMebibyte);
for (const server of [tlsEchoServer, tlsBulkServer]) server.on('tlsClientError', () => {});
const tlsEchoPort = await listen(tlsEchoServer);
const bulkPort = await listen(bulkServer);
const tlsBulkPort = await listen(tlsBulkServer);

// ---- hosts -------------------------------------------------------------------------------------------

/** @param {string} command */
function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

async function freePort() {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Starts a process and resolves when GET /health answers 200, with the time that took and its pid.
 * @param {string} command
 * @param {string[]} args
 * @param {Record<string, string>} env
 * @param {(log: string) => string | undefined} urlFrom
 * @returns {Promise<Started>}
 */
async function startProcess(command, args, env, urlFrom) {
  const started = performance.now();
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited: ${log}`);
    if (performance.now() - started > 180_000) throw new Error(`${command} did not start: ${log}`);
    const url = urlFrom(log);
    if (url && (await fetch(`${url}/health`).then((r) => r.status === 200, () => false))) {
      return { url, pid: child.pid ?? 0, startMs: performance.now() - started, stop: () => stopProcess(child) };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * @param {import('node:child_process').ChildProcess} child
 * @returns {Promise<void>}
 */
function stopProcess(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

const COMPONENT_ENV = { ALLOWED_TARGETS: '127.0.0.0/8:*', REQUEST_DEADLINE_MS: '60000', TLS_CA_CERTS: pki.caPem };
const startLocal = () =>
  startProcess('node', ['host/start.mjs'], { ...COMPONENT_ENV, PORT: '0', HOST: '127.0.0.1' }, (log) => /listening on (http:\/\/\S+)/.exec(log)?.[1]);
const startBaseline = () => startProcess('node', ['bench/baseline-proxy.mjs'], { TLS_CA_CERTS: pki.caPem }, (log) => /listening on (http:\/\/\S+)/.exec(log)?.[1]);
const wasmtime = findWasmtime();
/**
 * `wasmtime serve` with the README's command line, plus `tuning` options.
 * @param {string[]} [tuning]
 */
const startWasmtime = (tuning = []) =>
  startProcess(/** @type {string} */ (wasmtime), wasmtimeServeArgs({ addr: '127.0.0.1:0', env: COMPONENT_ENV, component: COMPONENT, tuning }), {}, (log) => SERVING_LINE.exec(log)?.[1]);
async function startSpin() {
  const port = await freePort();
  const env = Object.entries(COMPONENT_ENV).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  return startProcess('spin', ['up', '--from', 'spin.toml', '--listen', `127.0.0.1:${port}`, ...env], {}, () => `http://127.0.0.1:${port}`);
}

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
/** A TLS handshake (TLS 1.3, ECDSA P-256 certificate) and the same echo inside it. */
const tlsSendPath = () => `/tcp/send?host=127.0.0.1&port=${tlsEchoPort}&msg=hello&tls=true`;

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
    plainMs: await median(`/tcp/send?host=127.0.0.1&port=${bulkPort}&msg=go`),
    tlsMs: await median(`/tcp/send?host=127.0.0.1&port=${tlsBulkPort}&msg=go&tls=true`),
  };
}

/**
 * /tcp/send at 10 connections while 4 requests hang on a silent peer.
 * @param {string} url
 */
async function headOfLine(url) {
  const silentConnections = () => new Promise((resolve) => silentServer.getConnections((_, n) => resolve(n)));
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
  return { rows: { health1, health10, send1, send10, headOfLine: hol.measured, memory, startMs: Math.round(host.startMs), tls1, tls10, mebibyte: mib }, pending: hol.stuck };
}

// ---- run ---------------------------------------------------------------------------------------------

if (!existsSync(COMPONENT)) spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
const wasm = await readFile(COMPONENT);

await rm(CACHE_DIR, { recursive: true, force: true });
const cold = await startLocal();
await cold.stop();
const local = await startLocal(); // warm: the transpiled component is cached now
/** @type {{ coldMs: number, warmMs: number, wasmtimeColdMs?: number }} */
const startup = { coldMs: Math.round(cold.startMs), warmMs: Math.round(local.startMs) };

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
const mine = await run('component (local host)', local);
await local.stop();
const baseline = await startBaseline();
const base = await run('baseline (plain Node proxy)', baseline);
await baseline.stop();
if (wasmtime) {
  const version = wasmtimeVersion(wasmtime);
  // Cold: wasmtime compiles the component (its cache off); the rows below start warm from its compile cache.
  const coldWasmtime = await startWasmtime(['-C', 'cache=n']);
  startup.wasmtimeColdMs = Math.round(coldWasmtime.startMs);
  await coldWasmtime.stop();
  /** @type {[string, string[]][]} */
  const variants = [
    [`component (wasmtime serve ${version})`, []],
    [`component (wasmtime serve ${version}, pooling allocator)`, ['-O', 'pooling-allocator']],
    [`component (wasmtime serve ${version}, instance reuse)`, INSTANCE_REUSE],
  ];
  for (const [name, tuning] of variants) {
    const host = await startWasmtime(tuning);
    await run(name, host);
    await host.stop();
  }
} else {
  results.hosts['component (wasmtime serve)'] = { skipped: 'wasmtime is not installed (node scripts/wasmtime.mjs install)' };
}
if (onPath('spin')) {
  const host = await startSpin();
  await run('component (spin up)', host);
  await host.stop();
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
/** @type {Record<string, { value: string, met: boolean }>} */
const targets = {
  'tcp/send ≥ 10% of baseline (10 connections)': { value: `${((mine.send10.rps / base.send10.rps) * 100).toFixed(1)}%`, met: mine.send10.rps >= base.send10.rps * 0.1 },
  'tcp/send p99 ≤ 100 ms (10 connections)': { value: `${mine.send10.p99} ms`, met: mine.send10.p99 <= 100 },
  '/health ≥ 1,000 req/s (10 connections)': { value: `${mine.health10.rps} req/s`, met: mine.health10.rps >= 1000 },
  'head-of-line: p99 ≤ 150 ms, no errors': { value: `${mine.headOfLine.p99} ms, ${mine.headOfLine.errors} errors`, met: mine.headOfLine.p99 <= 150 && mine.headOfLine.errors === 0 },
  'npm start → first 200 /health ≤ 5 s (warm cache)': { value: `${(startup.warmMs / 1000).toFixed(2)} s`, met: startup.warmMs <= 5000 },
};

for (const [name, rows] of Object.entries(results.hosts)) {
  if (!name.includes('wasmtime') || 'skipped' in rows) continue;
  const label = name.replace(/^component \((.*)\)$/, '$1');
  targets[`${label}: tcp/send ≥ 25% of baseline (10 connections)`] = { value: `${((rows.send10.rps / base.send10.rps) * 100).toFixed(1)}%`, met: rows.send10.rps >= base.send10.rps * 0.25 };
  targets[`${label}: /health ≥ 2,000 req/s (10 connections)`] = { value: `${rows.health10.rps} req/s`, met: rows.health10.rps >= 2000 };
  targets[`${label}: head-of-line p99 ≤ 50 ms, no errors`] = { value: `${rows.headOfLine.p99} ms, ${rows.headOfLine.errors} errors`, met: rows.headOfLine.p99 <= 50 && rows.headOfLine.errors === 0 };
  if (name.includes('instance reuse')) {
    targets[`${label}: TLS echo ≥ 25% of the node:tls baseline (10 connections)`] = { value: `${((rows.tls10.rps / base.tls10.rps) * 100).toFixed(1)}%`, met: rows.tls10.rps >= base.tls10.rps * 0.25 };
  }
  targets[`${label}: 1 MiB over TLS ≤ 2× plaintext`] = { value: `${(rows.mebibyte.tlsMs / rows.mebibyte.plainMs).toFixed(2)}×`, met: rows.mebibyte.tlsMs <= 2 * rows.mebibyte.plainMs };
}
targets['local host: 1 MiB over TLS ≤ 2× plaintext'] = { value: `${(mine.mebibyte.tlsMs / mine.mebibyte.plainMs).toFixed(2)}×`, met: mine.mebibyte.tlsMs <= 2 * mine.mebibyte.plainMs };

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
  const ratio = (/** @type {'health1' | 'health10' | 'send1' | 'send10' | 'headOfLine'} */ key) => `${((mine[key].rps / base[key].rps) * 100).toFixed(1)}%`;
  lines.push(`| local host ÷ baseline | ${ratio('health1')} | ${ratio('health10')} | ${ratio('send1')} | ${ratio('send10')} | ${ratio('headOfLine')} | | |`);
  lines.push('', '| target | measured | met |', '| --- | --- | --- |');
  for (const [name, t] of Object.entries(targets)) lines.push(`| ${name} | ${t.value} | ${t.met ? 'yes' : '**no**'} |`);
  lines.push('', '| host | TLS handshake + echo c=1 | TLS handshake + echo c=10 | 1 MiB reply, plaintext | 1 MiB reply, TLS |', '| --- | --- | --- | --- | --- |');
  for (const [name, rows] of Object.entries(results.hosts)) {
    if ('skipped' in rows) continue;
    lines.push(`| ${name} | ${cell(rows.tls1)} | ${cell(rows.tls10)} | ${rows.mebibyte.plainMs} ms | ${rows.mebibyte.tlsMs} ms |`);
  }
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

echoServer.close();
silentServer.close();
for (const server of [tlsEchoServer, bulkServer, tlsBulkServer]) server.close();
pki.remove();
process.exit(0);
