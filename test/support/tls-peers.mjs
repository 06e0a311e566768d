// TLS peers on loopback for the tests, the benchmark and the demo (`npm run peers`), on node:tls, serving a
// certificate of a PKI made for the run (scripts/demo-pki.mjs): implicit TLS, and STARTTLS as mail servers do it.

import tls from 'node:tls';
import { listenAsPeer, tcpPeer } from './tcp-peers.mjs';

/**
 * @typedef {import('./tcp-peers.mjs').Peer} Peer
 * @typedef {import('./tcp-peers.mjs').Where} Where
 * @typedef {{ key: string, cert: string }} Credentials
 * @typedef {Pick<tls.TlsOptions, 'minVersion' | 'maxVersion' | 'ciphers'>} TlsOptions
 */

/**
 * A TLS server whose behaviour per secure connection is `onConnection`.
 * @param {Credentials} credentials
 * @param {(socket: tls.TLSSocket) => void} onConnection
 * @param {TlsOptions & Where} [options]
 * @returns {Promise<Peer>}
 */
export async function tlsPeer(credentials, onConnection, { host = '127.0.0.1', port = 0, ...options } = {}) {
  const server = tls.createServer({ key: credentials.key, cert: credentials.cert, ...options }, (socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  });
  // Handshakes the client refuses end in errors here: expected, nobody's failure.
  server.on('tlsClientError', () => {});
  return listenAsPeer(server, { host, port }, []);
}

const ECHO = Buffer.from('echo:');

/**
 * Answers each chunk with `echo:` + the chunk over TLS and keeps the connection open.
 * @param {Credentials} credentials
 * @param {TlsOptions & Where} [options]
 */
export const tlsEchoPeer = (credentials, options) => tlsPeer(credentials, (s) => s.on('data', (d) => s.write(Buffer.concat([ECHO, d]))), options);

/**
 * Answers the first chunk with `echo:` + the chunk over TLS, then closes.
 * @param {Credentials} credentials
 */
export const tlsEchoAndClosePeer = (credentials) => tlsPeer(credentials, (s) => s.once('data', (d) => s.end(Buffer.concat([ECHO, d]))));

/**
 * Sends `bytes` when anything arrives, then closes (over TLS unless `credentials` is undefined).
 * @param {Credentials | undefined} credentials
 * @param {Buffer} bytes
 * @param {TlsOptions} [options]
 */
export function bulkPeer(credentials, bytes, options) {
  /** @param {import('node:net').Socket} s */
  const send = (s) => s.once('data', () => s.end(bytes));
  return credentials ? tlsPeer(credentials, send, options) : tcpPeer(send);
}

/**
 * A mail-style server with STARTTLS: `greeting`, then `STARTTLS` is answered `220 go ahead` (followed, in the
 * same write, by `injected`, to play a man in the middle), after which the connection speaks TLS and echoes
 * each chunk as `echo:` + the chunk.
 * @param {string} greeting
 * @param {Credentials} credentials
 * @param {{ injected?: string, respond?: (chunk: Buffer) => Buffer | string } & Where} [options] `respond`
 *   answers each chunk after the handshake (default: the echo).
 */
export function startTlsPeer(greeting, credentials, { injected = '', respond = (chunk) => Buffer.concat([ECHO, chunk]), ...where } = {}) {
  return tcpPeer((socket) => {
    socket.write(`${greeting}\r\n`);
    socket.once('data', (data) => {
      if (data.toString('latin1') !== 'STARTTLS\r\n') return socket.end('500 say STARTTLS first\r\n');
      socket.write(`220 go ahead\r\n${injected}`, () => {
        const secure = new tls.TLSSocket(socket, { isServer: true, key: credentials.key, cert: credentials.cert });
        secure.on('error', () => {});
        secure.on('data', (chunk) => secure.write(respond(chunk)));
      });
    });
  }, where);
}
