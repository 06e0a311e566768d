// Real UDP peers on loopback port 0 for the tests, and what the kernel says of a UDP socket (/proc/net/udp):
// whether it still exists, what it holds unread, what it dropped.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';

export interface UdpPeer {
  socket: Socket;
  port: number;
  host: string;
  /** Every datagram the peer received, in order. */
  received: Buffer[];
  close(): Promise<void>;
}

/**
 * A dgram socket bound to `host` (port 0 unless `port` is given) that records each datagram and hands it to `onMessage`
 * (default: sends it back to where it came from).
 */
export async function udpPeer(
  onMessage: (data: Buffer, from: RemoteInfo, socket: Socket) => void = (data, from, socket) => socket.send(data, from.port, from.address),
  { host = '127.0.0.1', port = 0 } = {},
): Promise<UdpPeer> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const received: Buffer[] = [];
  socket.on('message', (data, from) => {
    received.push(data);
    onMessage(data, from, socket);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve());
  });
  return {
    socket,
    port: socket.address().port,
    host,
    received,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** Sends `data` from `socket` to `host`:`port` and resolves once Node has handed it to the kernel. */
export function sendFrom(socket: Socket, data: Uint8Array | string, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => socket.send(data, port, host, (error) => (error ? reject(error) : resolve())));
}

/**
 * The kernel's entry for the UDP socket bound to local `port` (any address) of `family`, or undefined when there is
 * none: `rxQueue` bytes it holds that its owner has not read yet, `drops` datagrams it dropped (its buffer full).
 * Linux only; a socket that was closed has no entry.
 */
export function kernelUdpSocket(family: 'ipv4' | 'ipv6', port: number): { rxQueue: number; drops: number } | undefined {
  const table = readFileSync(family === 'ipv4' ? '/proc/net/udp' : '/proc/net/udp6', 'utf8').split('\n').slice(1);
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of table) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(`:${portHex}`)) {
      return { rxQueue: parseInt(fields[4]?.split(':')[1] ?? '0', 16), drops: Number(fields[12]) };
    }
  }
  return undefined;
}
