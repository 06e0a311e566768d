// `node bench/guest-fuel.mjs [COMPONENT] [GET-PATH…]`: how much Wasm the component runs for one request on a fresh
// instance, counted in wasmtime fuel (about one unit per Wasm operator), so a change to the guest can be
// compared on a busy machine, where timings are noise: fuel does not depend on load. The count is found by
// bisection — `wasmtime serve -W fuel=N` gives every instance N units and traps it when they run out, so the
// least N with which the request is still answered is what it costs. Host work (wasmtime, WASI, the kernel)
// is not counted; `npm run bench` measures the whole.

import { spawn } from 'node:child_process';
import { lineEchoPeer } from '../test/support/tcp-peers.mjs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { SERVING_LINE, findWasmtime, wasmtimeServeArgs } from '../scripts/wasmtime.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const component = process.argv[2] ?? `${root}dist/ai-agent-sockets.wasm`;
/** Paths given after the component are measured instead of the standard probes. */
const paths = process.argv.slice(3);
const wasmtime = findWasmtime();
if (!wasmtime) throw new Error('wasmtime is not installed (node scripts/wasmtime.mjs install)');
/** Relative precision of the bisection. */
const PRECISION = 0.002;

/** A peer that echoes each line (two-step dialogues) and answers a message without a newline, then closes. */
const peer = await lineEchoPeer({ closeOnPartial: true });
const port = peer.port;

/** @type {Record<string, { path: string, init?: RequestInit }>} */
const PROBES = {
  '/health': { path: '/health' },
  '/tcp/send': { path: `/tcp/send?host=127.0.0.1&port=${port}&msg=hello` },
  '/tcp/exchange, 2 steps': {
    path: '/tcp/exchange',
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ host: '127.0.0.1', port, steps: [{ send: { text: 'one\n' }, until: { text: '\n' } }, { send: { text: 'two\n' }, until: { text: '\n' } }] }),
    },
  },
};

/**
 * Whether `probe` is answered (anything but a 500) with `fuel` units per instance.
 * @param {number} fuel
 * @param {{ path: string, init?: RequestInit }} probe
 */
async function answers(fuel, probe) {
  const args = wasmtimeServeArgs({ addr: '127.0.0.1:0', env: { ALLOWED_TARGETS: '127.0.0.0/8:*' }, component, extra: ['-W', `fuel=${fuel}`] });
  const child = spawn(/** @type {string} */ (wasmtime), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    for (let url = SERVING_LINE.exec(log)?.[1]; ; url = SERVING_LINE.exec(log)?.[1]) {
      if (child.exitCode !== null) throw new Error(`wasmtime exited: ${log}`);
      // A trapped instance is answered 500 by wasmtime (or not at all); the component's own answers are others.
      if (url) return await fetch(`${url}${probe.path}`, probe.init).then((r) => r.status !== 500, () => false);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit').catch(() => {});
  }
}

const probes = paths.length > 0 ? Object.fromEntries(paths.map((path) => [path, { path }])) : PROBES;
for (const [name, probe] of Object.entries(probes)) {
  let low = 1e5;
  let high = 1e11;
  if (!(await answers(high, probe))) throw new Error(`${name} is not answered even with ${high} fuel`);
  while (high / low > 1 + PRECISION) {
    const mid = Math.round(Math.sqrt(low * high));
    if (await answers(mid, probe)) high = mid;
    else low = mid;
  }
  console.log(`${name}: ${(high / 1e6).toFixed(2)} M fuel per request (fresh instance)`);
}
await peer.close();
