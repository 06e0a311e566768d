// `npm run soak`: 10,000 requests through the local host leave no socket behind (about a minute).

import { afterAll, beforeAll, expect, test } from 'vitest';
import { get } from '../support/http.js';
import { localHost, type RunningHost } from '../support/hosts.js';
import { socketsAfterRequests } from '../support/leak-check.js';
import { echoAndClosePeer, type Peer } from '../support/peers.js';

let peer: Peer;
let host: RunningHost;

beforeAll(async () => {
  peer = await echoAndClosePeer();
  host = await localHost.start({ ALLOWED_TARGETS: '127.0.0.0/8:*' });
});
afterAll(async () => {
  await host?.close();
  await peer?.close();
});

test('10,000 requests leave no socket behind in the local host process', async () => {
  const report = await socketsAfterRequests({
    pid: host.pid,
    send: (msg) => get(host.url, `/tcp/send?host=127.0.0.1&port=${peer.port}&msg=${msg}`),
    peer,
    warmup: 500,
    count: 10_000,
  });
  expect(report.after, `sockets before ${report.before}, after ${report.after}`).toBeLessThanOrEqual(report.before + 4);
});
