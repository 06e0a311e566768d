// A real DNS server for end-to-end tests: Debian's dnsmasq on 127.0.0.1, a free port, answering only from its own records.

import { spawn } from 'node:child_process';
import net from 'node:net';
import { freePort } from './tcp-peers.mjs';
import { dnsmasq } from './tools.js';

/** The dnsmasq binary (test/support/tools.ts finds it; a suite that needs it is skipped without it). */
function dnsmasqBinary(): string {
  if (!dnsmasq.path) throw new Error(dnsmasq.missing);
  return dnsmasq.path;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

export interface Dnsmasq {
  port: number;
  /** `127.0.0.1:PORT`, as DNS_SERVERS takes it. */
  server: string;
  log(): string;
  close(): Promise<void>;
}

/**
 * Starts dnsmasq answering from its own records only: `hosts` maps a name to its addresses (A and AAAA),
 * `cnames` an alias to its target. No upstream, no hosts file, no configuration file, no daemon; stopped by
 * `close()`. With `local` (the default, `--local=/test/`) it is authoritative for `.test`: a name it does not
 * know is NXDOMAIN, a type it has no record of is an empty answer. Without it, as a forwarder with no upstream
 * (`--no-resolv` alone), it answers REFUSED to both — for a name with only an A record, the AAAA query is refused.
 */
export async function startDnsmasq({
  hosts,
  cnames = {},
  txt = {},
  local = true,
}: {
  hosts: Record<string, string[]>;
  cnames?: Record<string, string>;
  /** A name's TXT record, one string. */
  txt?: Record<string, string>;
  local?: boolean;
}): Promise<Dnsmasq> {
  const binary = dnsmasqBinary();
  const records = [
    ...Object.entries(hosts).map(([name, addresses]) => `--host-record=${[name, ...addresses].join(',')}`),
    ...Object.entries(cnames).map(([alias, target]) => `--cname=${alias},${target}`),
    ...Object.entries(txt).map(([name, text]) => `--txt-record=${name},${text}`),
  ];
  // dnsmasq also binds UDP on the port: if another process holds it, try another port.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      binary,
      [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        '--pid-file=',
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        `--port=${port}`,
        ...(local ? ['--local=/test/'] : []),
        '--log-facility=-',
        ...records,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const until = Date.now() + 10_000;
    while (child.exitCode === null && !(await accepts(port))) {
      if (Date.now() > until) {
        child.kill('SIGKILL');
        throw new Error(`dnsmasq did not start listening on ${port}:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (child.exitCode !== null) {
      if (attempt < 5 && output.includes('Address already in use')) continue;
      throw new Error(`dnsmasq exited with ${child.exitCode}:\n${output}`);
    }
    return {
      port,
      server: `127.0.0.1:${port}`,
      log: () => output,
      close: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
  }
}
