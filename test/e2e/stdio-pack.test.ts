// What `npm pack` ships starts where a user installs it: the tarball, installed into an empty directory (from the
// npm cache when it holds the dependencies, else from the registry), runs `npx ai-agent-sockets --stdio` and answers
// tools/list — with the component it shipped, not one it had to rebuild.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
/** Packing checks the build, and installing fetches about 230 packages when the cache lacks them. */
const SLOW_MS = 300_000;

/** npm on Node 22+ keeps a compile cache in the temporary directory, which the run's leak check would find left behind. */
const NO_COMPILE_CACHE = { NODE_DISABLE_COMPILE_CACHE: '1' };

/** Runs `command` to its end; rejects with its output when it fails. */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', ...NO_COMPILE_CACHE, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`))));
  });
}

describe('the packed tarball', () => {
  let dir: string;
  let files: string[];
  let app: string;
  let tarball: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stdio-pack-'));
    const [packed] = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', dir], root)) as { filename: string; files: { path: string }[] }[];
    files = packed!.files.map((f) => f.path);
    app = join(dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'stdio-pack-test', private: true }));
    tarball = join(dir, packed!.filename);
    await run('npm', ['install', '--prefer-offline', tarball], app);
  }, SLOW_MS);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('ships the command, the host, the built app with its packed stamp, and no tests or lockfile', () => {
    expect(files).toEqual(expect.arrayContaining(['bin/ai-agent-sockets.mjs', 'host/start-stdio.mjs', 'dist/ai-agent-sockets.app.wasm', 'dist/ai-agent-sockets.app.wasm.packed-inputs']));
    expect(files.filter((f) => f.startsWith('test/') || f === 'package-lock.json' || f.startsWith('.cache/'))).toEqual([]);
  });

  test(
    'installed into an empty directory, `npx ai-agent-sockets --stdio` answers tools/list without rebuilding the component',
    async () => {
      const transport = new StdioClientTransport({ command: 'npx', args: ['--no-install', 'ai-agent-sockets', '--stdio'], cwd: app, env: { POOL_SIZE: '1', ...NO_COMPILE_CACHE }, stderr: 'pipe' });
      let stderr = '';
      transport.stderr?.on('data', (d) => (stderr += d));
      const client = new Client({ name: 'stdio-pack', version: '1.0.0' });
      try {
        await client.connect(transport);
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toEqual(['tcp_exchange', 'udp_exchange']);
        expect(stderr).toContain('serving MCP over stdio');
        expect(stderr).not.toContain('componentize-js');
      } finally {
        await client.close();
      }
    },
    SLOW_MS,
  );

  test(
    '`npm install -g` of it (under a prefix of its own) gives a command that npx finds from any directory and that answers over stdio',
    async () => {
      const prefix = join(dir, 'global');
      const env = { npm_config_prefix: prefix, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
      await run('npm', ['install', '-g', '--prefer-offline', tarball], dir, env);
      expect((await run('npx', ['--no-install', 'ai-agent-sockets', '--version'], dir, env)).trim()).toBe(version);
      const transport = new StdioClientTransport({ command: join(prefix, 'bin', 'ai-agent-sockets'), args: ['--stdio'], cwd: dir, env: { POOL_SIZE: '1', PATH: env.PATH } });
      const client = new Client({ name: 'stdio-global', version: '1.0.0' });
      try {
        await client.connect(transport);
        expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['tcp_exchange', 'udp_exchange']);
      } finally {
        await client.close();
      }
    },
    SLOW_MS,
  );
});
