// `npm run peers`: the README's demo peers on loopback — an HTTP server, an echo server, and a line protocol
// with a greeting (like SMTP). PEER_HTTP_PORT (default 8082), PEER_ECHO_PORT (default 9090) and
// PEER_LINE_PORT (default 2525) choose the ports; 0 picks free ones. The TCP peers are the tests' own.

import http from 'node:http';
import { echoPeer, lineProtocolPeer, listen } from '../test/support/tcp-peers.mjs';

const httpPort = Number(process.env.PEER_HTTP_PORT ?? 8082);
const echoPort = Number(process.env.PEER_ECHO_PORT ?? 9090);
const linePort = Number(process.env.PEER_LINE_PORT ?? 2525);

const web = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from ${req.headers.host}\n`);
});

console.log(`http peer on 127.0.0.1:${await listen(web, { port: httpPort })}`);
console.log(`echo peer on 127.0.0.1:${(await echoPeer({ port: echoPort })).port}`);
console.log(`line peer on 127.0.0.1:${(await lineProtocolPeer('220 demo ready', { port: linePort })).port}`);
