// `npm run peers`: the README's demo peers on loopback — an HTTP server, an echo server, and a line protocol
// with a greeting (like SMTP). PEER_HTTP_PORT (default 8082), PEER_ECHO_PORT (default 9090) and
// PEER_LINE_PORT (default 2525) choose the ports; 0 picks free ones.

import http from 'node:http';
import net from 'node:net';
import { lineProtocol } from './line-protocol.mjs';

const httpPort = Number(process.env.PEER_HTTP_PORT ?? 8082);
const echoPort = Number(process.env.PEER_ECHO_PORT ?? 9090);
const linePort = Number(process.env.PEER_LINE_PORT ?? 2525);

const web = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from ${req.headers.host}\n`);
});
const echo = net.createServer((socket) => {
  socket.on('data', (data) => socket.write(Buffer.concat([Buffer.from('echo:'), data])));
  socket.on('error', () => {});
});

const line = net.createServer(lineProtocol('220 demo ready'));

/** @param {import('node:net').Server} server @param {number} port @returns {Promise<number>} the port it listens on */
const listen = (server, port) =>
  new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(/** @type {import('node:net').AddressInfo} */ (server.address()).port)));
console.log(`http peer on 127.0.0.1:${await listen(web, httpPort)}`);
console.log(`echo peer on 127.0.0.1:${await listen(echo, echoPort)}`);
console.log(`line peer on 127.0.0.1:${await listen(line, linePort)}`);
