// A line protocol with a greeting, like SMTP: the demo peer and the test peer share it.

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
