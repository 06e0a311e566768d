// `node bench/dirty-pages.mjs`: how much of the component's linear memory one request writes, which is what a
// host with per-request instances must reset afterwards (wasmtime's pooling allocator keeps the first
// `pooling-memory-keep-resident` bytes of a slot resident and resets them in place; the rest it hands back to
// the kernel, so the next instance faults it in again). The keep-resident size in scripts/wasmtime.mjs is
// chosen from this.
//
// Method: the component is transpiled for Node (the same core Wasm wasmtime runs), instantiated fresh, its
// memory copied, one request handled, and the memory compared with the copy page by page (4 KiB, the host's
// page). A page counts as dirtied when its bytes differ, so this is a lower bound on what the engine touched
// (a write of the same bytes is not seen). Each endpoint runs in its own process on its own fresh instance,
// as under a per-request host; the same instance then serves nine more requests, to show what reuse adds.

import { spawn } from 'node:child_process';
import { lineEchoPeer } from '../test/support/tcp-peers.mjs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const PAGE = 4096;
const MiB = 2 ** 20;

/** @typedef {{ method: string, path: string, body?: string }} Probe */
/** @type {Record<string, (echoPort: number) => Probe>} */
const PROBES = {
  health: () => ({ method: 'GET', path: '/health' }),
  'tcp/send': (port) => ({ method: 'GET', path: `/tcp/send?host=127.0.0.1&port=${port}&msg=hello%0A&until=%0A` }),
  'tcp/exchange (2 steps)': (port) => ({
    method: 'POST',
    path: '/tcp/exchange',
    body: JSON.stringify({ host: '127.0.0.1', port, steps: [{ send: { text: 'one\n' }, until: { text: '\n' } }, { send: { text: 'two\n' }, until: { text: '\n' } }] }),
  }),
  // The largest message the default MAX_MESSAGE_BYTES allows, and its echo: what makes the heap grow.
  'tcp/send, 64 KiB POST': (port) => ({ method: 'POST', path: `/tcp/send?host=127.0.0.1&port=${port}&until=%0A`, body: `${'x'.repeat(65_535)}\n` }),
  'openapi.json': () => ({ method: 'GET', path: '/openapi.json' }),
};


/**
 * Pages of `now` that differ from `before` (pages past `before`'s end count when not all zero), as ranges.
 * @param {Uint8Array} before
 * @param {Uint8Array} now
 */
function dirtied(before, now) {
  /** @type {[number, number][]} */
  const ranges = [];
  let count = 0;
  for (let at = 0; at < now.length; at += PAGE) {
    const page = now.subarray(at, at + PAGE);
    const old = at < before.length ? before.subarray(at, at + PAGE) : undefined;
    const changed = old ? Buffer.compare(page, old) !== 0 : page.some((b) => b !== 0);
    if (!changed) continue;
    count++;
    const last = ranges.at(-1);
    if (last && last[1] === at) last[1] = at + PAGE;
    else ranges.push([at, at + PAGE]);
  }
  return { pages: count, bytes: count * PAGE, highest: ranges.at(-1)?.[1] ?? 0, ranges };
}

/**
 * Extent of the memory image: the first and last page that is not all zeros right after instantiation.
 * @param {Uint8Array} memory
 */
function imageExtent(memory) {
  let first = -1;
  let last = -1;
  for (let at = 0; at < memory.length; at += PAGE) {
    if (memory.subarray(at, at + PAGE).some((b) => b !== 0)) {
      if (first < 0) first = at;
      last = at + PAGE;
    }
  }
  return { start: first, end: last };
}

/** Runs in a child process: one fresh instance, one probe, then nine more on the same instance. */
async function child() {
  const [name, port] = [process.argv[3] ?? '', Number(process.argv[4])];
  const { transpiled } = await import('../host/transpile-cache.mjs');
  // Transpiled first: jco's own Wasm must not be taken for the component's.
  const { entry } = await transpiled(`${root}dist/ai-agent-sockets.wasm`);
  const { _setEnv, _setArgs } = await import('@bytecodealliance/preview2-shim/cli');
  const { _setPreopens } = await import('@bytecodealliance/preview2-shim/filesystem');
  const { IncomingRequest, OutgoingResponse, ResponseOutparam, requestFields } = await import('../host/wasi-http-incoming.mjs');
  _setEnv({ ALLOWED_TARGETS: '127.0.0.0/8:*' });
  _setArgs([]);
  _setPreopens({});
  // Node's WebAssembly global, which this project's TypeScript settings do not declare.
  const wasm = /** @type {any} */ (globalThis).WebAssembly;
  /** @type {{ buffer: ArrayBuffer }[]} */
  const memories = [];
  const instantiate = wasm.instantiate;
  // jco's bindings capture WebAssembly.instantiate when they load: wrap it first to see each core instance's memory.
  wasm.instantiate = async (/** @type {any[]} */ ...args) => {
    const result = await instantiate(...args);
    const instance = result instanceof wasm.Instance ? result : result.instance;
    for (const value of Object.values(instance.exports)) if (value instanceof wasm.Memory) memories.push(/** @type {any} */ (value));
    return result;
  };
  const { incomingHandler } = await import(entry);
  const probe = PROBES[name]?.(port);
  if (!probe) throw new Error(`unknown probe ${name}`);
  const handle = () => {
    /** @type {any} */
    let response;
    const outparam = new ResponseOutparam((set) => (response = set));
    const body = probe.body ? new TextEncoder().encode(probe.body) : undefined;
    const headers = probe.body?.startsWith('{') ? ['content-type', 'application/json'] : [];
    incomingHandler.handle(new IncomingRequest(probe.method, probe.path, 'localhost', requestFields(headers), body), outparam);
    const { status, body: out } = OutgoingResponse.collect(response.val);
    if (status !== 200) throw new Error(`${name}: ${status} ${Buffer.from(out).toString()}`);
  };
  const biggest = memories.reduce((a, b) => (a.buffer.byteLength >= b.buffer.byteLength ? a : b));
  const initial = new Uint8Array(biggest.buffer).slice();
  handle();
  const first = dirtied(initial, new Uint8Array(biggest.buffer));
  const afterFirst = biggest.buffer.byteLength;
  for (let i = 0; i < 9; i++) handle();
  const tenth = dirtied(initial, new Uint8Array(biggest.buffer));
  process.stdout.write(
    JSON.stringify({
      name,
      memories: memories.map((m) => m.buffer.byteLength),
      initialBytes: initial.length,
      image: imageExtent(initial),
      first: { ...first, memoryBytes: afterFirst },
      tenth: { ...tenth, ranges: undefined, memoryBytes: biggest.buffer.byteLength },
    }),
  );
}

/** @param {number} bytes */
const mib = (bytes) => `${(bytes / MiB).toFixed(2)} MiB`;

async function main() {
  // Answers each line with `echo:` + the line and keeps the connection open; every probe ends on `until`.
  const peer = await lineEchoPeer();
  const port = peer.port;
  const results = [];
  for (const name of Object.keys(PROBES)) {
    // Socket calls block the calling thread (preview2-shim), so the instance runs in a process of its own.
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', name, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    const [code] = await once(proc, 'exit');
    if (code !== 0) throw new Error(`${name}: child exited with ${code}`);
    results.push(JSON.parse(out));
  }
  await peer.close();
  const [one] = results;
  console.log(`linear memory at instantiation: ${mib(one.initialBytes)}; image (non-zero pages) ${mib(one.image.start)} – ${mib(one.image.end)}`);
  console.log('| request | pages dirtied (4 KiB) | dirtied | highest dirtied offset | memory after | after 10 on one instance |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.first.pages} | ${mib(r.first.bytes)} | ${mib(r.first.highest)} | ${mib(r.first.memoryBytes)} | ${r.tenth.pages} pages, highest ${mib(r.tenth.highest)}, memory ${mib(r.tenth.memoryBytes)} |`,
    );
  }
  if (process.argv.includes('--ranges')) {
    for (const r of results) console.log(r.name, r.first.ranges.map((/** @type {[number, number]} */ [a, b]) => `${mib(a)}–${mib(b)}`).join(', '));
  }
}

if (process.argv[2] === '--child') await child();
else await main();
