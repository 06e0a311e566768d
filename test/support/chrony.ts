// A real NTP server for end-to-end tests: Debian's chronyd on 127.0.0.1, a free UDP port, serving its own clock
// (`local stratum 10`) without ever setting the machine's (`-x`), with no command port and files of its own.

import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chronyd } from './tools.js';

export interface NtpServer {
  port: number;
  close(): Promise<void>;
}

/** A free UDP port on loopback, as the kernel hands one out. */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Whether an NTP server answers a client packet on `port` within `ms`. */
function answers(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.once('message', () => done(true));
    socket.once('error', () => done(false));
    const packet = Buffer.alloc(48);
    packet[0] = 0x23; // LI 0, version 4, mode 3 (client)
    socket.send(packet, port, '127.0.0.1');
  });
}

/** Starts chronyd as an NTP server on a loopback port; waits until it answers. */
export async function startChrony(): Promise<NtpServer> {
  if (!chronyd.path) throw new Error(chronyd.missing);
  const dir = mkdtempSync(join(tmpdir(), 'chrony-'));
  const port = await freeUdpPort();
  const config = join(dir, 'chrony.conf');
  writeFileSync(config, [`port ${port}`, 'bindaddress 127.0.0.1', 'allow 127.0.0.1', 'local stratum 10', 'cmdport 0', `pidfile ${join(dir, 'chronyd.pid')}`, `driftfile ${join(dir, 'drift')}`, ''].join('\n'));
  const child = spawn(chronyd.path, ['-d', '-x', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const until = Date.now() + 10_000;
  while (!(await answers(port, 200))) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`chronyd did not answer on ${port}:\n${output}`);
    }
  }
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        const finish = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return finish();
        child.once('exit', finish);
        child.kill('SIGTERM');
      }),
  };
}
