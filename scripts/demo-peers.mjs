// `npm run peers`: the README's demo peers on loopback — an HTTP server, an echo server, a line protocol
// with a greeting (like SMTP), a TLS echo server and a mail-style server with STARTTLS. PEER_HTTP_PORT (default
// 8082), PEER_ECHO_PORT (9090), PEER_LINE_PORT (2525), PEER_TLS_PORT (9443) and PEER_STARTTLS_PORT (2587) choose
// the ports; 0 picks free ones. The TLS peers' certificate (localhost, 127.0.0.1) comes from a CA made at each
// start in .cache/demo-pki (PEER_PKI_DIR); the component trusts it with TLS_CA_CERTS="$(cat .cache/demo-pki/ca.pem)".

import { mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { makePki } from './demo-pki.mjs';
import { lineProtocol, startTlsProtocol } from './line-protocol.mjs';

const httpPort = Number(process.env.PEER_HTTP_PORT ?? 8082);
const echoPort = Number(process.env.PEER_ECHO_PORT ?? 9090);
const linePort = Number(process.env.PEER_LINE_PORT ?? 2525);
const tlsPort = Number(process.env.PEER_TLS_PORT ?? 9443);
const startTlsPort = Number(process.env.PEER_STARTTLS_PORT ?? 2587);

const pkiDir = process.env.PEER_PKI_DIR ?? fileURLToPath(new URL('../.cache/demo-pki', import.meta.url));
rmSync(pkiDir, { recursive: true, force: true });
mkdirSync(pkiDir, { recursive: true });
const { good } = makePki(pkiDir);

const web = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from ${req.headers.host}\n`);
});
const echo = net.createServer((socket) => {
  socket.on('data', (data) => socket.write(Buffer.concat([Buffer.from('echo:'), data])));
  socket.on('error', () => {});
});

const line = net.createServer(lineProtocol('220 demo ready'));
const secureEcho = tls.createServer({ key: good.key, cert: good.cert }, (socket) => {
  socket.on('data', (data) => socket.write(Buffer.concat([Buffer.from('echo:'), data])));
  socket.on('error', () => {});
});
secureEcho.on('tlsClientError', () => {});
const mail = net.createServer(startTlsProtocol('220 demo ready', good));

/** @param {import('node:net').Server} server @param {number} port @returns {Promise<number>} the port it listens on */
const listen = (server, port) =>
  new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(/** @type {import('node:net').AddressInfo} */ (server.address()).port)));
console.log(`http peer on 127.0.0.1:${await listen(web, httpPort)}`);
console.log(`echo peer on 127.0.0.1:${await listen(echo, echoPort)}`);
console.log(`line peer on 127.0.0.1:${await listen(line, linePort)}`);
console.log(`tls peer on 127.0.0.1:${await listen(secureEcho, tlsPort)}`);
console.log(`starttls peer on 127.0.0.1:${await listen(mail, startTlsPort)}`);
