// TLS for the tests: loopback TLS peers on node:tls and Debian's redis-server, serving certificates of a PKI
// made for the run (scripts/demo-pki.mjs: a CA and certificates with each problem the component must name).

import { spawn } from 'node:child_process';
import { type Credentials, type Pki, makePki } from '../../scripts/demo-pki.mjs';
import { freePort, tcpPeer, type Peer } from './tcp-peers.mjs';

export type { Credentials, Pki };
export { makePki };

export { bulkPeer, startTlsPeer, tlsEchoPeer, tlsPeer } from './tls-peers.mjs';

/** Answers the ClientHello with plaintext, as a server on the wrong port would. */
export const plaintextPeer = () => tcpPeer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));

/**
 * A real server from Debian: `redis-server` on loopback, on its TLS port only when `credentials` are given, else
 * on its plain port; with `requirepass`, clients must AUTH.
 */
export async function redisPeer(credentials: Credentials | undefined, { requirepass }: { requirepass?: string } = {}): Promise<Peer> {
  const port = await freePort();
  const listen = credentials
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', credentials.certFile, '--tls-key-file', credentials.keyFile, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const child = spawn('redis-server', [
    ...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(requirepass ? ['--requirepass', requirepass] : []),
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
