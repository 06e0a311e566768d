// Real TCP peers on 127.0.0.1 port 0 for end-to-end tests: well-behaved ones and faulty ones.

import http from 'node:http';
import net from 'node:net';
import { lineProtocol } from '../../scripts/line-protocol.mjs';

export interface Peer {
  port: number;
  host: string;
  /** Connections the peer currently holds open. */
  openConnections(): Promise<number>;
  /** Everything each connection sent, in order of connection. */
  received: Buffer[];
  close(): Promise<void>;
}

function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** A TCP server whose behaviour per connection is `onConnection`. */
export async function tcpPeer(onConnection: (socket: net.Socket, received: Buffer[], index: number) => void, host = '127.0.0.1'): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const index = received.push(Buffer.alloc(0)) - 1;
    socket.on('data', (d) => {
      received[index] = Buffer.concat([received[index] ?? Buffer.alloc(0), d]);
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket, received, index);
  });
  const port = await listen(server, host);
  return {
    port,
    host,
    received,
    openConnections: () => new Promise((resolve) => server.getConnections((_, n) => resolve(n))),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers every chunk with `echo:` + the chunk and keeps the connection open (like the original's test peer). */
export const echoPeer = (host?: string) => tcpPeer((s) => s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d]))), host);

/** Answers the first chunk with `echo:` + the chunk, then closes. */
export const echoAndClosePeer = () => tcpPeer((s) => s.once('data', (d) => s.end(Buffer.concat([Buffer.from('echo:'), d]))));

/** Answers `+PONG\r\n` to anything and keeps the connection open, as Redis does. */
export const keepOpenPeer = () => tcpPeer((s) => s.on('data', () => s.write('+PONG\r\n')));

/** A line protocol with a greeting, like SMTP: `220 ready` on connect, then `250 <line>` for each line; stays open. */
export const greetingPeer = () => tcpPeer(lineProtocol('220 ready'));

/** Sends back every byte it receives, unchanged, and keeps the connection open. */
export const mirrorPeer = () => tcpPeer((s) => s.on('data', (d) => s.write(d)));

/** Accepts and never sends anything. */
export const silentPeer = () => tcpPeer(() => {});

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
export const dripPeer = (intervalMs = 100) =>
  tcpPeer((s) => {
    const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('.')), intervalMs);
    s.on('close', () => clearInterval(timer));
  });

/** Sends part of a reply, then resets the connection (RST). */
export const resetPeer = () =>
  tcpPeer((s) =>
    s.once('data', () => {
      s.write('partial');
      setTimeout(() => s.resetAndDestroy(), 50);
    }),
  );

/** Closes the connection at once, before reading anything. */
export const closeAtOncePeer = () => tcpPeer((s) => s.destroy());

/** Reads the message, sends a reply and half-closes (FIN) while still accepting data. */
export const halfClosePeer = () => tcpPeer((s) => s.once('data', (d) => s.end(Buffer.concat([Buffer.from('bye:'), d]))));

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
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether this machine has an IPv6 loopback to test against. */
export async function hasIpv6Loopback(): Promise<boolean> {
  const server = net.createServer();
  try {
    await listen(server, '::1');
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
