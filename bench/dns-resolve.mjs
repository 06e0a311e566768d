// `node bench/dns-resolve.mjs`: how long DNS over TCP adds to a request, against a loopback DNS server that
// answers each query 20 ms after it arrives (a nearby resolver). The component runs on wasmtime serve without
// name lookups (names go to DNS_SERVERS); the time of `/tcp/send?host=NAME` is compared with `host=127.0.0.1`.
// DNS_BENCH_REQUESTS sets the requests per row (default 40), DNS_LATENCY_MS the server's latency.

import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import * as dnsPacket from 'dns-packet';
import { SERVING_LINE, findWasmtime, wasmtimeServeArgs, wasmtimeVersion } from '../scripts/wasmtime.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const REQUESTS = Number(process.env.DNS_BENCH_REQUESTS ?? 40);
const LATENCY_MS = Number(process.env.DNS_LATENCY_MS ?? 20);

/** @param {net.Server} server @returns {Promise<number>} */
const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(/** @type {net.AddressInfo} */ (server.address()).port)));

const echo = net.createServer((s) => {
  s.on('error', () => {});
  s.once('data', (d) => s.end(Buffer.concat([Buffer.from('echo:'), d])));
});
/** Answers every query (pipelined or not) LATENCY_MS after it arrives: A 127.0.0.1, AAAA none. */
const dns = net.createServer((s) => {
  s.on('error', () => {});
  let buffered = Buffer.alloc(0);
  s.on('data', (d) => {
    buffered = Buffer.concat([buffered, d]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      const query = dnsPacket.streamDecode(buffered.subarray(0, 2 + buffered.readUInt16BE(0)));
      buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
      const question = /** @type {dnsPacket.Question} */ (query.questions?.[0]);
      /** @type {dnsPacket.Answer[]} */
      const answers = question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 60, class: 'IN', data: '127.0.0.1' }] : [];
      const reply = dnsPacket.streamEncode({ type: 'response', id: query.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: [question], answers });
      setTimeout(() => s.destroyed || s.write(reply), LATENCY_MS);
    }
  });
});
const [echoPort, dnsPort] = await Promise.all([listen(echo), listen(dns)]);

const wasmtime = findWasmtime();
if (!wasmtime) throw new Error('wasmtime is not installed: node scripts/wasmtime.mjs install');
const env = { ALLOWED_TARGETS: '127.0.0.0/8:*', DNS_SERVERS: `127.0.0.1:${dnsPort}` };
const child = spawn(wasmtime, wasmtimeServeArgs({ addr: '127.0.0.1:0', env, nameLookup: false, component: `${root}dist/ai-agent-sockets.wasm` }), { stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
child.stdout.on('data', (d) => (output += d));
child.stderr.on('data', (d) => (output += d));
const url = await new Promise((resolve, reject) => {
  const check = () => {
    const found = SERVING_LINE.exec(output)?.[1];
    if (found) resolve(found);
    else if (child.exitCode !== null) reject(new Error(output));
    else setTimeout(check, 50);
  };
  check();
});

/**
 * Median and p90 of REQUESTS sequential requests to `path`, in ms.
 * @param {string} path
 */
async function time(path) {
  const samples = [];
  for (let i = 0; i < REQUESTS + 3; i++) {
    const started = performance.now();
    const response = await fetch(`${url}${path}`);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${text}`);
    if (i >= 3) samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)] ?? NaN, p90: samples[Math.floor(samples.length * 0.9)] ?? NaN };
}

try {
  const byIp = await time(`/tcp/send?host=127.0.0.1&port=${echoPort}&msg=x`);
  const byName = await time(`/tcp/send?host=echo.test&port=${echoPort}&msg=x`);
  const f = (/** @type {number} */ n) => n.toFixed(1);
  console.log(`wasmtime ${wasmtimeVersion(wasmtime)}, DNS server latency ${LATENCY_MS} ms, ${REQUESTS} requests each`);
  console.log(`| request | p50 ms | p90 ms |\n| --- | --- | --- |`);
  console.log(`| host=127.0.0.1 | ${f(byIp.p50)} | ${f(byIp.p90)} |`);
  console.log(`| host=echo.test (DNS over TCP) | ${f(byName.p50)} | ${f(byName.p90)} |`);
  console.log(`resolving adds ${f(byName.p50 - byIp.p50)} ms at the median`);
} finally {
  child.kill('SIGTERM');
  echo.close();
  dns.close();
}
process.exit(0);
