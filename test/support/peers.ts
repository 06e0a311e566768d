// Real TCP peers on 127.0.0.1 port 0 for end-to-end tests: well-behaved ones (tcp-peers.mjs, shared with the
// benchmark and the demo) and faulty ones.

import http from 'node:http';
import net from 'node:net';
import { echoAndClosePeer, echoPeer, freePort, keepOpenPeer, lineProtocolPeer, listen, silentPeer, tcpPeer, type Peer } from './tcp-peers.mjs';

export { echoAndClosePeer, echoPeer, keepOpenPeer, silentPeer, tcpPeer, type Peer };

/** A line protocol with a greeting, like SMTP: `220 ready` on connect, then `250 <line>` for each line; stays open. */
export const greetingPeer = () => lineProtocolPeer('220 ready');

/** Sends back every byte it receives, unchanged, and keeps the connection open. */
export const mirrorPeer = () => tcpPeer((s) => s.on('data', (d) => s.write(d)));

/** Sends data without end as fast as the connection takes it. */
export const endlessPeer = () =>
  tcpPeer((s) => {
    const chunk = Buffer.alloc(16_384, 'x');
    const pump = () => {
      while (!s.destroyed && s.write(chunk));
    };
    s.on('drain', pump);
    pump();
  });

/** Sends one byte every `intervalMs`, forever. */
const dripPeer = (intervalMs = 100) =>
  tcpPeer((s) => {
    const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('.')), intervalMs);
    s.on('close', () => clearInterval(timer));
  });

/** Sends part of a reply, then resets the connection (RST). */
const resetPeer = () =>
  tcpPeer((s) =>
    s.once('data', () => {
      s.write('partial');
      setTimeout(() => s.resetAndDestroy(), 50);
    }),
  );

/** Closes the connection at once, before reading anything. */
const closeAtOncePeer = () => tcpPeer((s) => s.destroy());

/** Reads the message, sends a reply and half-closes (FIN) while still accepting data. */
const halfClosePeer = () => tcpPeer((s) => s.once('data', (d) => s.end(Buffer.concat([Buffer.from('bye:'), d]))));

/** An HTTP/1.1 server that records the raw request head it received. */
export async function httpPeer(): Promise<Peer & { heads: string[] }> {
  const heads: string[] = [];
  const server = http.createServer((req, res) => {
    heads.push(`${req.method} ${req.url} HTTP/${req.httpVersion}\r\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}`);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello from ${req.headers.host}`);
  });
  const port = await listen(server);
  return {
    port,
    host: '127.0.0.1',
    heads,
    received: [],
    openConnections: () => new Promise((resolve) => server.getConnections((_, n) => resolve(n))),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 with nothing listening on it. */
const closedPort = freePort;

/** Whether this machine has an IPv6 loopback to test against. */
export async function hasIpv6Loopback(): Promise<boolean> {
  const server = net.createServer();
  try {
    await listen(server, { host: '::1' });
    await new Promise((resolve) => server.close(resolve));
    return true;
  } catch {
    return false;
  }
}

/** Waits until `check` is true, polling; for conditions that settle asynchronously (sockets closing). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** Every kind of peer the end-to-end suites use, started together on loopback. */
export async function startPeerSet() {
  const web = await httpPeer();
  const peers = {
    echo: await echoPeer(),
    echoClose: await echoAndClosePeer(),
    keepOpen: await keepOpenPeer(),
    silent: await silentPeer(),
    endless: await endlessPeer(),
    drip: await dripPeer(100),
    reset: await resetPeer(),
    closeAtOnce: await closeAtOncePeer(),
    halfClose: await halfClosePeer(),
  };
  const refusedPort = await closedPort();
  return {
    web,
    peers,
    refusedPort,
    close: () => Promise.all([web.close(), ...Object.values(peers).map((p) => p.close())]),
  };
}
