// `node bench/redis-ping.mjs`: a Redis-style PING through /tcp/send at 20 connections on the local host,
// against a loopback peer that answers `+PONG\r\n` and keeps the connection open (as Redis does):
// once ending on the quiet gap (REPLY_IDLE_MS), once ending on `until=%0D%0A`. Prints one JSON line per run.

import autocannon from 'autocannon';
import { startLocalHost } from '../test/support/host-process.mjs';
import { keepOpenPeer } from '../test/support/tcp-peers.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 20;

const peer = await keepOpenPeer();
const host = await startLocalHost({ ALLOWED_TARGETS: '127.0.0.0/8:*' });
const { url } = host;

const runs = {
  'quiet gap (msg=PING%0D%0A)': `/tcp/send?host=127.0.0.1&port=${peer.port}&msg=PING%0D%0A`,
  'until=%0D%0A': `/tcp/send?host=127.0.0.1&port=${peer.port}&msg=PING%0D%0A&until=%0D%0A`,
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
await host.close();
await peer.close();
process.exit(0);
