// The socket leak check shared by `npm test` (a few hundred requests) and `npm run soak` (10,000).

import { openSocketCount } from './hosts.js';
import { eventually, type Peer } from './peers.js';

/** Concurrent clients, as a busy agent would make them. */
const CONCURRENCY = 20;

/**
 * Sends `warmup` requests (to open every worker's keep-alive connection), counts the host process's sockets,
 * sends `count` more, waits for `peer` to see every connection closed and the count to settle, and returns both counts.
 * `send(msg)` must answer `echo:` + msg.
 */
export async function socketsAfterRequests(options: {
  pid: number;
  send: (msg: string) => Promise<{ status: number; text: string }>;
  peer: Peer;
  warmup: number;
  count: number;
}): Promise<{ before: number; after: number }> {
  const { pid, send, peer, warmup, count } = options;
  const run = async (total: number, label: string) => {
    let next = 0;
    const client = async () => {
      while (next < total) {
        const i = next++;
        const r = await send(`${label}${i}`);
        if (r.text !== `echo:${label}${i}`) throw new Error(`request ${label}${i}: ${r.status} ${r.text}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
  };
  await run(warmup, 'w');
  await eventually(async () => (await peer.openConnections()) === 0);
  const before = openSocketCount(pid);
  await run(count, 'n');
  if (!(await eventually(async () => (await peer.openConnections()) === 0))) throw new Error('the peer still holds connections');
  // Keep-alive connections between dispatcher and workers may differ by a few; leaked sockets would be hundreds.
  await eventually(async () => openSocketCount(pid) <= before + 4);
  return { before, after: openSocketCount(pid) };
}
