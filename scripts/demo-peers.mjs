// `npm run peers`: the README's demo peers — an HTTP server and an echo server on loopback.
// PEER_HTTP_PORT (default 8082) and PEER_ECHO_PORT (default 9090) choose the ports; 0 picks free ones.

import http from 'node:http';
import net from 'node:net';

const httpPort = Number(process.env.PEER_HTTP_PORT ?? 8082);
const echoPort = Number(process.env.PEER_ECHO_PORT ?? 9090);

const web = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from ${req.headers.host}\n`);
});
const echo = net.createServer((socket) => {
  socket.on('data', (data) => socket.write(Buffer.concat([Buffer.from('echo:'), data])));
  socket.on('error', () => {});
});

/** @param {import('node:net').Server} server @param {number} port @returns {Promise<number>} the port it listens on */
const listen = (server, port) =>
  new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(/** @type {import('node:net').AddressInfo} */ (server.address()).port)));
console.log(`http peer on 127.0.0.1:${await listen(web, httpPort)}`);
console.log(`echo peer on 127.0.0.1:${await listen(echo, echoPort)}`);
