// Runs the README's curl examples (each a shell line with `curl` and the `# expected` comment under it)
// against `npm start` and the `npm run peers` demo peers, through a real shell and a real curl.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localHost, type RunningHost } from '../support/hosts.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const run = promisify(execFile);

/** Shell lines that call curl on the local server, and the `# expected` comment under each. */
const examples = [...readme.matchAll(/^(.*\bcurl\b.*"(http:\/\/127\.0\.0\.1:8081[^"]*)".*)\n# (.*)$/gm)]
  .map((m) => ({ command: m[1]!, url: m[2]!, expected: m[3]! }))
  // Redis is not one of the demo peers.
  .filter((e) => !e.url.includes('port=6379'));

/** The demo peers' default ports, as the README shows them. */
const DEMO_PORTS = { http: 8082, echo: 9090, line: 2525 } as const;

describe('README examples', () => {
  let peers: ChildProcess;
  let host: RunningHost;
  const ports: Record<keyof typeof DEMO_PORTS, number> = { http: 0, echo: 0, line: 0 };
  const localize = (text: string) =>
    Object.entries(DEMO_PORTS).reduce(
      (t, [name, port]) => t.replaceAll(`port=${port}`, `port=${ports[name as keyof typeof DEMO_PORTS]}`).replaceAll(`:${port}`, `:${ports[name as keyof typeof DEMO_PORTS]}`).replaceAll(`"port": ${port}`, `"port": ${ports[name as keyof typeof DEMO_PORTS]}`),
      text.replaceAll('http://127.0.0.1:8081', host.url),
    );

  beforeAll(async () => {
    peers = spawn(process.execPath, ['scripts/demo-peers.mjs'], { cwd: root, env: { ...process.env, PEER_HTTP_PORT: '0', PEER_ECHO_PORT: '0', PEER_LINE_PORT: '0' } });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      peers.stdout!.on('data', (d) => {
        out += d;
        for (const name of Object.keys(DEMO_PORTS) as (keyof typeof DEMO_PORTS)[]) {
          const found = new RegExp(`${name} peer on 127\\.0\\.0\\.1:(\\d+)`).exec(out);
          if (found) ports[name] = Number(found[1]);
        }
        if (Object.values(ports).every((p) => p !== 0)) resolve();
      });
      peers.once('exit', (code) => reject(new Error(`demo peers exited with ${code}`)));
    });
    host = await localHost.start({});
  });

  afterAll(async () => {
    await host?.close();
    peers?.kill();
  });

  test('the quick start shows the three examples of the original first', () => {
    expect(examples.slice(0, 3).map((e) => new URL(e.url).pathname)).toEqual(['/health', '/', '/tcp/send']);
  });

  test('every endpoint has an example', () => {
    const shown = new Set(examples.map((e) => new URL(e.url).pathname));
    for (const path of ['/health', '/', '/tcp/send', '/tcp/exchange', '/openapi.json', '/mcp']) expect(shown).toContain(path);
  });

  test.each(examples)('$command prints "$expected"', async ({ command, expected }) => {
    const { stdout } = await run('sh', ['-c', localize(command)], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
    for (const part of expected.split(' ... ')) expect(stdout).toContain(localize(part));
  });
});
