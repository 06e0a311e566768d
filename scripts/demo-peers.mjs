// `npm run peers`: the README's demo peers on loopback — an HTTP server, an echo server, a UDP echo server, a
// line protocol with a greeting (like SMTP), a TLS echo server and a mail-style server with STARTTLS.
// PEER_HTTP_PORT (default 8082), PEER_ECHO_PORT (9090), PEER_UDP_PORT (9091), PEER_LINE_PORT (2525), PEER_TLS_PORT
// (9443) and PEER_STARTTLS_PORT (2587) choose the ports; 0 picks free ones. The peers are the tests' own. The TLS peers' certificate (localhost, 127.0.0.1)
// comes from a CA made at each start in .cache/demo-pki (PEER_PKI_DIR); the component trusts it with
// TLS_CA_CERTS="$(cat .cache/demo-pki/ca.pem)".

import { createSocket } from 'node:dgram';
import { mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { echoPeer, lineProtocolPeer, listen } from '../test/support/tcp-peers.mjs';
import { startTlsPeer, tlsEchoPeer } from '../test/support/tls-peers.mjs';
import { makePki } from './demo-pki.mjs';

const httpPort = Number(process.env.PEER_HTTP_PORT ?? 8082);
const echoPort = Number(process.env.PEER_ECHO_PORT ?? 9090);
const udpPort = Number(process.env.PEER_UDP_PORT ?? 9091);
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

console.log(`http peer on 127.0.0.1:${await listen(web, { port: httpPort })}`);
console.log(`echo peer on 127.0.0.1:${(await echoPeer({ port: echoPort })).port}`);
// The UDP echo answers each datagram with `echo:` and the datagram, as the TCP one answers each chunk.
const udpEcho = createSocket('udp4');
udpEcho.on('message', (data, from) => udpEcho.send(Buffer.concat([Buffer.from('echo:'), data]), from.port, from.address));
await new Promise((resolve) => udpEcho.bind(udpPort, '127.0.0.1', () => resolve(undefined)));
console.log(`udp peer on 127.0.0.1:${udpEcho.address().port}`);
console.log(`line peer on 127.0.0.1:${(await lineProtocolPeer('220 demo ready', { port: linePort })).port}`);
console.log(`tls peer on 127.0.0.1:${(await tlsEchoPeer(good, { port: tlsPort })).port}`);
console.log(`starttls peer on 127.0.0.1:${(await startTlsPeer('220 demo ready', good, { port: startTlsPort })).port}`);
