// `npm start` asks the component whether its settings are well-formed (GET /ready) before it says it listens:
// a malformed setting ends the start with a non-zero exit and a line naming it.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { HAS_JSPI } from '../../host/settings.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `npm start`'s script to its end; returns the exit code and everything it printed. */
function runStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['host/start.mjs'], { cwd: root, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', POOL_SIZE: '1', ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('npm start with a malformed component setting', () => {
  test.each([
    ['CONNECT_TIMEOUT_MS', 'abc'],
    ['DEFAULT_TARGET_HOST', 'a:b'],
    ['AUTH_TOKEN', 'tiny-secret'],
  ])('%s=%s: exits non-zero, naming the setting, without listening', async (name, value) => {
    const { code, output } = await runStart({ [name]: value });
    expect(code).toBe(2);
    expect(output).toMatch(new RegExp(`cannot start: .*${name}`));
    expect(output).not.toContain('listening on');
    if (name === 'AUTH_TOKEN') expect(output).not.toContain(value);
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
