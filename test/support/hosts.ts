// Starts the built component on each host: the local jco host always, wasmtime and Spin when on PATH.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const COMPONENT = `${root}dist/ai-agent-sockets.wasm`;

export interface RunningHost {
  url: string;
  pid: number;
  close(): Promise<void>;
  /** Output of the host process so far, for failure messages. */
  log(): string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
}

export interface HostKind {
  name: string;
  /** Why the host cannot run here, or undefined when it can. */
  unavailable?: string;
  /** Whether the host lets the component resolve names (Spin never does). */
  resolvesNames: boolean;
  start(env: Record<string, string>): Promise<RunningHost>;
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Spawns a host process and waits until `GET /health` answers 200 (or the process dies). */
async function spawnHost(command: string, args: string[], env: Record<string, string>, urlFrom: (log: string) => string | undefined): Promise<RunningHost> {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const until = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > until) {
      await stopProcess(child);
      throw new Error(`${command} did not become healthy in time:\n${output}`);
    }
    const url = urlFrom(output);
    if (url) {
      const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
      if (ok) return { url, pid: child.pid ?? 0, close: () => stopProcess(child), log: () => output, exited };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const localHost: HostKind = {
  name: 'local (npm start: jco + preview2-shim)',
  resolvesNames: true,
  start: (env) =>
    spawnHost('node', ['host/start.mjs'], { PORT: '0', HOST: '127.0.0.1', ...env }, (log) => /listening on (http:\/\/\S+)/.exec(log)?.[1]),
};

export const wasmtimeHost: HostKind = {
  name: 'wasmtime serve',
  unavailable: onPath('wasmtime') ? undefined : 'wasmtime is not on PATH',
  resolvesNames: true,
  async start(env) {
    const port = await freePort();
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    return spawnHost(
      'wasmtime',
      ['serve', '-S', 'cli', '-S', 'inherit-network', '-S', 'allow-ip-name-lookup', '--addr', `127.0.0.1:${port}`, ...envArgs, COMPONENT],
      {},
      () => `http://127.0.0.1:${port}`,
    );
  },
};

export const spinHost: HostKind = {
  name: 'spin up',
  unavailable: onPath('spin') ? undefined : 'spin is not on PATH',
  resolvesNames: false,
  async start(env) {
    const port = await freePort();
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    return spawnHost('spin', ['up', '--from', 'spin.toml', '--listen', `127.0.0.1:${port}`, ...envArgs], {}, () => `http://127.0.0.1:${port}`);
  },
};

export const ALL_HOSTS = [localHost, wasmtimeHost, spinHost];

/** Sockets a process holds open (Linux /proc), for leak checks. */
export function openSocketCount(pid: number): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++;
    } catch {
      // closed while we looked
    }
  }
  return count;
}
