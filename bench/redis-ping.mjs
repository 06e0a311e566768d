// `node bench/redis-ping.mjs`: a Redis-style PING through /tcp/send at 20 connections on the local host,
// against a loopback peer that answers `+PONG\r\n` and keeps the connection open (as Redis does):
// once ending on the quiet gap (REPLY_IDLE_MS), once ending on `until=%0D%0A`. Prints one JSON line per run.

import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const root = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 20;

const peer = net.createServer((s) => {
  s.on('error', () => {});
  s.on('data', () => s.write('+PONG\r\n'));
});
await new Promise((resolve) => peer.listen(0, '127.0.0.1', () => resolve(undefined)));
const peerPort = /** @type {import('node:net').AddressInfo} */ (peer.address()).port;

const child = spawn(process.execPath, ['host/start.mjs'], {
  cwd: root,
  env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ALLOWED_TARGETS: '127.0.0.0/8:*' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let log = '';
child.stdout.on('data', (d) => (log += d));
child.stderr.on('data', (d) => (log += d));
let url;
for (const until = Date.now() + 180_000; !url; ) {
  if (child.exitCode !== null || Date.now() > until) throw new Error(`the local host did not start:\n${log}`);
  const found = /listening on (http:\/\/\S+)/.exec(log)?.[1];
  if (found && (await fetch(`${found}/health`).then((r) => r.ok, () => false))) url = found;
  else await new Promise((r) => setTimeout(r, 50));
}

const runs = {
  'quiet gap (msg=PING%0D%0A)': `/tcp/send?host=127.0.0.1&port=${peerPort}&msg=PING%0D%0A`,
  'until=%0D%0A': `/tcp/send?host=127.0.0.1&port=${peerPort}&msg=PING%0D%0A&until=%0D%0A`,
};
for (const [name, path] of Object.entries(runs)) {
  const check = await fetch(`${url}${path}`);
  const body = await check.text();
  await autocannon({ url: `${url}${path}`, connections: CONNECTIONS, duration: 2 });
  const r = await autocannon({ url: `${url}${path}`, connections: CONNECTIONS, duration: SECONDS });
  console.log(
    JSON.stringify({
      run: name,
      connections: CONNECTIONS,
      seconds: SECONDS,
      reply: body,
      replyEnd: check.headers.get('x-reply-end'),
      rps: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors + r.timeouts + r.non2xx,
    }),
  );
}
child.kill('SIGTERM');
peer.close();
process.exit(0);
