// THE BASELINE, not the product: a plain Node HTTP → TCP proxy doing the same job as the component
// (GET /health, GET /tcp/send?host=&port=&msg=[&tls=true] with the same quiet gap, cap and deadline; TLS with
// node:tls, trusting Node's roots plus TLS_CA_CERTS), so the benchmark can say how the component compares with
// Node doing the work natively.
// Usage: node bench/baseline-proxy.mjs [port]   (prints "baseline listening on http://127.0.0.1:PORT")

import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

/** Node's roots plus the operator's, as the component trusts Mozilla's plus TLS_CA_CERTS: parsed once, not per connection. */
const TRUSTED = process.env.TLS_CA_CERTS ? tls.createSecureContext({ ca: [...tls.rootCertificates, process.env.TLS_CA_CERTS] }) : undefined;

const REPLY_IDLE_MS = 200;
const MAX_REPLY_BYTES = 1_048_576;
const DEADLINE_MS = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {string} code
 */
function fail(res, status, code) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code } }));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://baseline');
  if (url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    return res.end('ok');
  }
  if (url.pathname !== '/tcp/send') return fail(res, 404, 'not-found');
  const host = url.searchParams.get('host');
  const port = Number(url.searchParams.get('port'));
  if (!host || !(port >= 1 && port <= 65535)) return fail(res, 400, 'invalid-target');
  /** @type {Buffer[]} */
  const chunks = [];
  let received = 0;
  let done = false;
  /** @type {NodeJS.Timeout | undefined} */
  let idle;
  const secure = url.searchParams.get('tls') === 'true';
  const socket = secure ? tls.connect({ host, port, servername: url.searchParams.get('server_name') ?? undefined, secureContext: TRUSTED }) : net.connect({ host, port });
  const finish = (/** @type {number} */ status, /** @type {string} */ end) => {
    if (done) return;
    done = true;
    clearTimeout(idle);
    clearTimeout(deadline);
    socket.destroy();
    if (status !== 200) return fail(res, status, end);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-reply-end': end });
    res.end(Buffer.concat(chunks));
  };
  const deadline = setTimeout(() => (received ? finish(200, 'deadline') : finish(504, 'read-timeout')), DEADLINE_MS);
  socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.connecting && finish(504, 'connect-timeout'));
  socket.once(secure ? 'secureConnect' : 'connect', () => {
    socket.setTimeout(0);
    socket.write(url.searchParams.get('msg') ?? '');
  });
  socket.on('data', (data) => {
    chunks.push(data);
    received += data.length;
    if (received >= MAX_REPLY_BYTES) return finish(200, 'limit');
    clearTimeout(idle);
    idle = setTimeout(() => finish(200, 'idle'), REPLY_IDLE_MS);
  });
  socket.once('end', () => finish(200, 'closed'));
  socket.once('error', () => finish(502, 'connection-failed'));
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`baseline listening on http://127.0.0.1:${/** @type {net.AddressInfo} */ (server.address()).port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close(() => process.exit(0)));
