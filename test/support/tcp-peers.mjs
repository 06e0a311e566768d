// TCP peers on loopback for the tests, the benchmark and the demo (`npm run peers`): one definition of each
// behaviour (echo, echo then close, PONG, silence, a line protocol with a greeting), in plain Node.

import net from 'node:net';

/**
 * @typedef {object} Peer
 * @property {number} port
 * @property {string} host
 * @property {() => Promise<number>} openConnections Connections the peer currently holds open.
 * @property {Buffer[]} received Everything each connection sent, in order of connection.
 * @property {() => Promise<void>} close Ends every connection and stops listening.
 * @typedef {{ host?: string, port?: number }} Where 127.0.0.1 and a free port unless given.
 */

/**
 * Listens on `host`:`port` and resolves with the port it got.
 * @param {net.Server} server
 * @param {Where} [where]
 * @returns {Promise<number>}
 */
export function listen(server, { host = '127.0.0.1', port = 0 } = {}) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(/** @type {net.AddressInfo} */ (server.address()).port));
  });
}

/**
 * A TCP server whose behaviour per connection is `onConnection`; it records what each connection sent.
 * @param {(socket: net.Socket, received: Buffer[], index: number) => void} onConnection
 * @param {Where} [where]
 * @returns {Promise<Peer>}
 */
export async function tcpPeer(onConnection, where = {}) {
  /** @type {Buffer[]} */
  const received = [];
  const server = net.createServer((socket) => {
    const index = received.push(Buffer.alloc(0)) - 1;
    socket.on('data', (d) => {
      received[index] = Buffer.concat([received[index] ?? Buffer.alloc(0), d]);
    });
    socket.on('error', () => {});
    onConnection(socket, received, index);
  });
  return listenAsPeer(server, where, received);
}

/**
 * Listens with `server` (plain TCP or TLS) and returns it as a Peer: its connections are tracked from the
 * first byte, so `close` ends every one of them, handshakes in progress included.
 * @param {net.Server} server
 * @param {Where} where
 * @param {Buffer[]} received
 * @returns {Promise<Peer>}
 */
export async function listenAsPeer(server, where, received) {
  /** @type {Set<net.Socket>} */
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server, where);
  return {
    port,
    host: where.host ?? '127.0.0.1',
    received,
    openConnections: () => new Promise((resolve) => server.getConnections((_, n) => resolve(n))),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const ECHO = Buffer.from('echo:');

/**
 * Answers every chunk with `echo:` + the chunk and keeps the connection open.
 * @param {Where} [where]
 */
export const echoPeer = (where) => tcpPeer((s) => s.on('data', (d) => s.write(Buffer.concat([ECHO, d]))), where);

/**
 * Answers the first chunk with `echo:` + the chunk, then closes: a request/response peer that never makes
 * its client wait for a quiet gap.
 * @param {Where} [where]
 */
export const echoAndClosePeer = (where) => tcpPeer((s) => s.once('data', (d) => s.end(Buffer.concat([ECHO, d]))), where);

/**
 * Answers `+PONG\r\n` to anything and keeps the connection open, as Redis does.
 * @param {Where} [where]
 */
export const keepOpenPeer = (where) => tcpPeer((s) => s.on('data', () => s.write('+PONG\r\n')), where);

/**
 * Accepts and never sends anything.
 * @param {Where} [where]
 */
export const silentPeer = (where) => tcpPeer(() => {}, where);

/**
 * A line protocol with a greeting, like SMTP: `greeting` on connect, then `250 <line>` for each
 * CRLF-terminated line; stays open.
 * @param {string} greeting
 * @param {Where} [where]
 */
export const lineProtocolPeer = (greeting, where) =>
  tcpPeer((socket) => {
    socket.write(`${greeting}\r\n`);
    let buffered = '';
    socket.on('data', (/** @type {Buffer} */ data) => {
      buffered += data.toString('latin1');
      for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
        socket.write(`250 ${buffered.slice(0, end)}\r\n`);
        buffered = buffered.slice(end + 2);
      }
    });
  }, where);

/**
 * Answers each `\n`-terminated line with `echo:` + the line and stays open; with `closeOnPartial`, a message
 * without a newline is answered the same way and the peer then closes (one-shot probes).
 * @param {{ closeOnPartial?: boolean }} [options]
 * @param {Where} [where]
 */
export const lineEchoPeer = ({ closeOnPartial = false } = {}, where) =>
  tcpPeer((socket) => {
    let buffered = '';
    socket.on('data', (/** @type {Buffer} */ data) => {
      buffered += data.toString('latin1');
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        socket.write(`echo:${buffered.slice(0, end + 1)}`, 'latin1');
        buffered = buffered.slice(end + 1);
      }
      if (closeOnPartial && buffered) {
        socket.end(`echo:${buffered}`, 'latin1');
        buffered = '';
      }
    });
  }, where);

/**
 * A port on 127.0.0.1 that was free a moment ago: for servers that cannot listen on port 0 themselves
 * (Spin, dnsmasq), and for a port with nothing listening on it.
 */
export async function freePort() {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
