// TLS for the tests: loopback TLS peers on node:tls and Debian's redis-server, serving certificates of a PKI
// made for the run (scripts/demo-pki.mjs: a CA and certificates with each problem the component must name).

import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { type Credentials, type Pki, makePki } from '../../scripts/demo-pki.mjs';
import { startTlsProtocol } from '../../scripts/line-protocol.mjs';
import { freePort } from './hosts.js';
import { tcpPeer, type Peer } from './peers.js';

export type { Credentials, Pki };
export { makePki };

type TlsOptions = Pick<tls.TlsOptions, 'minVersion' | 'maxVersion'>;

/** A TLS server on 127.0.0.1 whose behaviour per secure connection is `onConnection`. */
export async function tlsPeer(credentials: Credentials, onConnection: (socket: tls.TLSSocket) => void, options: TlsOptions = {}): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: credentials.key, cert: credentials.cert, ...options }, (socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  });
  // Handshakes the component refuses end in errors here: expected, not the test's failure.
  server.on('tlsClientError', () => {});
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  return {
    port,
    host: '127.0.0.1',
    received: [],
    openConnections: () => new Promise((resolve) => server.getConnections((_, n) => resolve(n))),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers each chunk with `echo:` + the chunk, over TLS. */
export const tlsEchoPeer = (credentials: Credentials, options?: TlsOptions) =>
  tlsPeer(credentials, (s) => s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d]))), options);

/** Sends `size` bytes (a repeating pattern) when anything arrives, over TLS. */
export const tlsBulkPeer = (credentials: Credentials, size: number) =>
  tlsPeer(credentials, (s) => s.once('data', () => s.write(Buffer.alloc(size, 'abcdefghijklmnopqrstuvwxyz'))));

/** A mail-style server with STARTTLS (scripts/line-protocol.mjs), sending `injected` right after its go-ahead. */
export const startTlsPeer = (credentials: Credentials, injected = '') => tcpPeer(startTlsProtocol('220 ready', credentials, injected));

/** Answers the ClientHello with plaintext, as a server on the wrong port would. */
export const plaintextPeer = () => tcpPeer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));

/** A real TLS server from Debian: `redis-server` with only its TLS port, on loopback. */
export async function redisTlsPeer(credentials: Credentials): Promise<Peer> {
  const port = await freePort();
  const child = spawn('redis-server', [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', credentials.certFile, '--tls-key-file', credentials.keyFile,
    '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      log += d;
      if (log.includes('Ready to accept connections')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)));
  });
  return {
    port,
    host: '127.0.0.1',
    received: [],
    openConnections: async () => 0,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Whether Debian's redis-server (built with TLS) is installed. */
export function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
