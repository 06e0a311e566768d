// Runs the README's quick-start curl commands against `npm start` and the `npm run peers` demo peers.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localHost, type RunningHost } from '../support/hosts.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');

/** `curl "URL"` lines and the `# expected` comment under each, from the README's quick start. */
const examples = [...readme.matchAll(/^curl "(http:\/\/127\.0\.0\.1:8081[^"]*)"\n# (.*)$/gm)]
  .map((m) => ({ url: m[1]!, expected: m[2]! }))
  .filter((e) => !e.url.includes('port=6379'));

describe('README quick start', () => {
  let peers: ChildProcess;
  let host: RunningHost;
  const ports = { http: 0, echo: 0 };

  beforeAll(async () => {
    peers = spawn(process.execPath, ['scripts/demo-peers.mjs'], { cwd: root, env: { ...process.env, PEER_HTTP_PORT: '0', PEER_ECHO_PORT: '0' } });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      peers.stdout!.on('data', (d) => {
        out += d;
        const h = /http peer on 127\.0\.0\.1:(\d+)/.exec(out);
        const e = /echo peer on 127\.0\.0\.1:(\d+)/.exec(out);
        if (h && e) {
          ports.http = Number(h[1]);
          ports.echo = Number(e[1]);
          resolve();
        }
      });
      peers.once('exit', (code) => reject(new Error(`demo peers exited with ${code}`)));
    });
    host = await localHost.start({});
  });

  afterAll(async () => {
    await host?.close();
    peers?.kill();
  });

  test('the README shows the three examples of the original', () => {
    expect(examples.map((e) => new URL(e.url).pathname)).toEqual(['/health', '/', '/tcp/send']);
  });

  test.each(examples)('curl "$url" prints "$expected"', async ({ url, expected }) => {
    const actual = url.replace('http://127.0.0.1:8081', host.url).replace('port=8082', `port=${ports.http}`).replace('port=9090', `port=${ports.echo}`);
    const response = await fetch(actual);
    expect(response.status).toBe(200);
    const text = await response.text();
    for (const part of expected.split(' ... ')) {
      expect(text).toContain(part.replace('8082', String(ports.http)));
    }
  });
});
