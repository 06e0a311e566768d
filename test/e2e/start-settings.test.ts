// `npm start` judges its settings before it listens: its own (HOST, ALLOW_UNAUTHENTICATED, HOST_SOCKETS) first,
// then the component's (GET /ready on an instance of its own). A malformed or unsafe one ends the start with a
// non-zero exit and a line naming it, and nothing ever answers on the port.

import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { HAS_JSPI } from '../../host/settings.mjs';
import { startLocalHost } from '../support/host-process.mjs';
import { freePort } from '../support/tcp-peers.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Settings of the test runner's own environment that would change what these tests see. */
const NEUTRAL = { AUTH_TOKEN: '', ALLOW_UNAUTHENTICATED: '' };

/** Runs `npm start`'s script to its end; returns the exit code and everything it printed. */
function runStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['host/start.mjs'], { cwd: root, env: { ...process.env, ...NEUTRAL, PORT: '0', HOST: '127.0.0.1', POOL_SIZE: '1', ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** One attempt to connect to 127.0.0.1:`port`: `accepted`, or the error code of the refusal. */
function connectAttempt(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

describe('npm start with a malformed component setting', () => {
  test.each([
    ['CONNECT_TIMEOUT_MS', 'abc'],
    ['DEFAULT_TARGET_HOST', 'a:b'],
    ['AUTH_TOKEN', 'tiny-secret'],
    ['OWN_ADDRESSES', '127.0.0.1'],
  ])('%s=%s: exits non-zero, naming the setting, without listening', async (name, value) => {
    const { code, output } = await runStart({ [name]: value });
    expect(code).toBe(2);
    expect(output).toMatch(new RegExp(`cannot start: .*${name}`));
    expect(output).not.toContain('listening on');
    if (name === 'AUTH_TOKEN') expect(output).not.toContain(value);
  });

  test('no connection to its port is ever accepted: every attempt while it starts and exits is refused', async () => {
    const port = await freePort();
    let ended = false;
    const run = runStart({ PORT: String(port), CONNECT_TIMEOUT_MS: 'abc' }).finally(() => (ended = true));
    const attempts: string[] = [];
    while (!ended) {
      attempts.push(await connectAttempt(port));
      // A few milliseconds between attempts: often enough to see any moment the port listens, without taking a core.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const { code, output } = await run;
    expect(code).toBe(2);
    expect(output).toContain('ai-agent-sockets cannot start: 1 malformed setting: CONNECT_TIMEOUT_MS');
    // It ran for a while (it builds if needed, then starts an instance to ask): the attempts spanned it.
    expect(attempts.length).toBeGreaterThan(20);
    expect(attempts.filter((outcome) => outcome !== 'ECONNREFUSED')).toEqual([]);
  });
});

describe('npm start and where it listens', () => {
  test('without HOST it listens on 127.0.0.1', async () => {
    const host = await startLocalHost({ ...NEUTRAL, HOST: '', POOL_SIZE: '1' });
    try {
      expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(host.log()).not.toContain('warning');
    } finally {
      await host.close();
    }
  });

  test.each(['0.0.0.0', '::'])('HOST=%s without AUTH_TOKEN exits 2 before listening, with one line saying how to set a token or opt in', async (address) => {
    const { code, output } = await runStart({ HOST: address });
    expect(code).toBe(2);
    expect(output.trim().split('\n')).toEqual([
      `ai-agent-sockets will not listen on ${address} without AUTH_TOKEN: anyone who can reach it could open connections through it. Set AUTH_TOKEN (16+ characters, e.g. AUTH_TOKEN=$(openssl rand -hex 32)), or ALLOW_UNAUTHENTICATED=true to serve without one anyway, or leave HOST unset to listen on 127.0.0.1 only`,
    ]);
  });

  test('ALLOW_UNAUTHENTICATED=yes exits 2, naming the values it takes', async () => {
    const { code, output } = await runStart({ ALLOW_UNAUTHENTICATED: 'yes' });
    expect(code).toBe(2);
    expect(output.trim()).toBe('ALLOW_UNAUTHENTICATED="yes" is invalid: expected true or false');
  });

  test('HOST=0.0.0.0 with ALLOW_UNAUTHENTICATED=true listens, warns, and refuses its own address as a target', async () => {
    const host = await startLocalHost({ ...NEUTRAL, HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true', POOL_SIZE: '1' });
    try {
      expect(host.log()).toContain('warning: ALLOW_UNAUTHENTICATED=true and no AUTH_TOKEN: anyone who can reach 0.0.0.0 can open connections through this server');
      const port = new URL(host.url).port;
      const r = await fetch(`http://127.0.0.1:${port}/tcp/send?host=127.0.0.1&port=${port}&msg=x`);
      expect(r.status).toBe(403);
      expect(await r.json()).toEqual({
        error: { code: 'destination-denied', message: `127.0.0.1:${port} is not allowed: it is this server's own address (OWN_ADDRESSES): a request to it would loop back into the server` },
      });
    } finally {
      await host.close();
    }
  });
});

describe('npm start with HOST_SOCKETS', () => {
  test('an unknown value exits 2, naming the values it takes', async () => {
    const { code, output } = await runStart({ HOST_SOCKETS: 'threads' });
    expect(code).toBe(2);
    expect(output.trim()).toBe('HOST_SOCKETS="threads" is invalid: expected worker or io-thread');
  });

  test.runIf(!HAS_JSPI)('worker on a Node without JSPI exits 2, saying which Node has it', async () => {
    const { code, output } = await runStart({ HOST_SOCKETS: 'worker' });
    expect(code).toBe(2);
    expect(output).toContain(`HOST_SOCKETS=worker needs JSPI (WebAssembly.Suspending), which Node ${process.version} lacks`);
  });
});
