// `node bench/dns-resolve.mjs`: how long resolving through DNS_SERVERS adds to a request, over TCP only
// (DNS_MODE=tcp) and over UDP first (the default), against a loopback DNS server that answers each query, on
// TCP and UDP alike, 20 ms after it arrives (a nearby resolver). The component runs on wasmtime serve without
// name lookups (names go to DNS_SERVERS); the time of `/tcp/send?host=NAME` is compared with `host=127.0.0.1`.
// DNS_BENCH_REQUESTS sets the requests per row (default 40), DNS_LATENCY_MS the server's latency.

import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
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
/** The same answers over UDP, on the same port number, after the same latency. */
const dnsUdp = createSocket('udp4');
dnsUdp.on('message', (data, from) => {
  const query = dnsPacket.decode(data);
  const question = /** @type {dnsPacket.Question} */ (query.questions?.[0]);
  /** @type {dnsPacket.Answer[]} */
  const answers = question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 60, class: 'IN', data: '127.0.0.1' }] : [];
  const reply = dnsPacket.encode({ type: 'response', id: query.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: [question], answers });
  setTimeout(() => dnsUdp.send(reply, from.port, from.address), LATENCY_MS);
});
await new Promise((resolve) => dnsUdp.bind(dnsPort, '127.0.0.1', () => resolve(undefined)));

const wasmtime = findWasmtime();
if (!wasmtime) throw new Error('wasmtime is not installed: node scripts/wasmtime.mjs install');
/**
 * wasmtime serve with DNS_SERVERS set to the server above, and `env`.
 * @param {Record<string, string>} env
 * @returns {Promise<{ url: string, child: import('node:child_process').ChildProcess }>}
 */
async function startWasmtime(env) {
  const all = { ALLOWED_TARGETS: '127.0.0.0/8:*', DNS_SERVERS: `127.0.0.1:${dnsPort}`, ...env };
  const child = spawn(/** @type {string} */ (wasmtime), wasmtimeServeArgs({ addr: '127.0.0.1:0', env: all, nameLookup: false, component: `${root}dist/ai-agent-sockets.wasm` }), { stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { url: /** @type {string} */ (url), child };
}
const overTcp = await startWasmtime({ DNS_MODE: 'tcp' });
const overUdp = await startWasmtime({});

/**
 * Median and p90 of REQUESTS sequential requests to `path` on `url`, in ms.
 * @param {string} url
 * @param {string} path
 */
async function time(url, path) {
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
  const byIp = await time(overUdp.url, `/tcp/send?host=127.0.0.1&port=${echoPort}&msg=x`);
  const byTcp = await time(overTcp.url, `/tcp/send?host=echo.test&port=${echoPort}&msg=x`);
  const byUdp = await time(overUdp.url, `/tcp/send?host=echo.test&port=${echoPort}&msg=x`);
  const f = (/** @type {number} */ n) => n.toFixed(1);
  console.log(`wasmtime ${wasmtimeVersion(/** @type {string} */ (wasmtime))}, DNS server latency ${LATENCY_MS} ms, ${REQUESTS} requests each`);
  console.log(`| request | p50 ms | p90 ms |\n| --- | --- | --- |`);
  console.log(`| host=127.0.0.1 | ${f(byIp.p50)} | ${f(byIp.p90)} |`);
  console.log(`| host=echo.test, DNS_MODE=tcp (DNS over TCP) | ${f(byTcp.p50)} | ${f(byTcp.p90)} |`);
  console.log(`| host=echo.test, DNS_MODE=auto (DNS over UDP first) | ${f(byUdp.p50)} | ${f(byUdp.p90)} |`);
  console.log(`resolving adds ${f(byTcp.p50 - byIp.p50)} ms over TCP, ${f(byUdp.p50 - byIp.p50)} ms over UDP, at the median`);
} finally {
  overTcp.child.kill('SIGTERM');
  overUdp.child.kill('SIGTERM');
  echo.close();
  dns.close();
  dnsUdp.close();
}
process.exit(0);
