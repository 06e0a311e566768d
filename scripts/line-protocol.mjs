// A line protocol with a greeting, like SMTP, with and without STARTTLS: the demo peers and the test peers share it.

import { TLSSocket } from 'node:tls';

/** A connection handler: `greeting` on connect, then `250 <line>` for each CRLF-terminated line; stays open. */
/**
 * @param {string} greeting
 * @returns {(socket: import('node:net').Socket) => void}
 */
export function lineProtocol(greeting) {
  return (socket) => {
    socket.on('error', () => {});
    socket.write(`${greeting}\r\n`);
    let buffered = '';
    socket.on('data', (/** @type {Buffer} */ data) => {
      buffered += data.toString('latin1');
      for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
        socket.write(`250 ${buffered.slice(0, end)}\r\n`);
        buffered = buffered.slice(end + 2);
      }
    });
  };
}

/**
 * The same with STARTTLS, as mail servers offer it: `greeting`, then `STARTTLS` is answered `220 go ahead`
 * (followed by `injected`, in the same write, to play a man in the middle), after which the connection speaks
 * TLS with `credentials` and echoes each chunk as `echo:` + the chunk.
 * @param {string} greeting
 * @param {{ key: string, cert: string }} credentials
 * @param {string} [injected]
 * @returns {(socket: import('node:net').Socket) => void}
 */
export function startTlsProtocol(greeting, credentials, injected = '') {
  return (socket) => {
    socket.on('error', () => {});
    socket.write(`${greeting}\r\n`);
    socket.once('data', (/** @type {Buffer} */ data) => {
      if (data.toString('latin1') !== 'STARTTLS\r\n') return socket.end('500 say STARTTLS first\r\n');
      socket.write(`220 go ahead\r\n${injected}`, () => {
        const secure = new TLSSocket(socket, { isServer: true, key: credentials.key, cert: credentials.cert });
        secure.on('error', () => {});
        secure.on('data', (/** @type {Buffer} */ chunk) => secure.write(Buffer.concat([Buffer.from('echo:'), chunk])));
      });
    });
  };
}
