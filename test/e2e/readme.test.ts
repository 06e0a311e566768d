// Runs the README's commands: the quick-start curl commands against every host (the local host as `npm start`
// runs it, wasmtime with the README's command line and settings), and checks that the README's `wasmtime serve`
// lines are the ones the tests, the benchmark and CI launch (scripts/wasmtime.mjs).

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { README_DNS_SERVERS, WASMTIME_VERSIONS, wasmtimeServeCommand } from '../../scripts/wasmtime.mjs';
import { ALL_HOSTS, type RunningHost, suiteName } from '../support/hosts.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const wasmtimeSection = readme.slice(readme.indexOf('## Running on wasmtime'), readme.indexOf('## Running on Spin'));

/** `curl "URL"` lines and the `# expected` comment under each, from the README's quick start. */
const examples = [...readme.matchAll(/^curl "(http:\/\/127\.0\.0\.1:8081[^"]*)"\n# (.*)$/gm)]
  .map((m) => ({ url: m[1]!, expected: m[2]! }))
  .filter((e) => !e.url.includes('port=6379'));

/** The settings the README says to add on wasmtime to try the quick start (`--env NAME=VALUE`). */
const wasmtimeQuickStartEnv = Object.fromEntries(
  [...wasmtimeSection.matchAll(/`--env ([A-Z_]+)=([^`\s]+)`/g)].map((m) => [m[1]!, m[2]!]),
);

describe('README: wasmtime section', () => {
  const commands = [...wasmtimeSection.matchAll(/^wasmtime serve .*$/gm)].map((m) => m[0]);

  test('its `wasmtime serve` lines are the command the tests, the benchmark and CI run', () => {
    expect(commands).toEqual([
      wasmtimeServeCommand(),
      wasmtimeServeCommand({ nameLookup: false }),
      // Names without lookups: DNS over TCP (test/e2e/dns.test.ts runs this command line against dnsmasq).
      wasmtimeServeCommand({ nameLookup: false, env: { DNS_SERVERS: README_DNS_SERVERS } }),
    ]);
  });

  test('it puts the release CI tests on PATH', () => {
    expect(wasmtimeSection).toContain(`.cache/wasmtime/${WASMTIME_VERSIONS.newest}/wasmtime_cli`);
  });

  test('it names the settings that open loopback for the quick start', () => {
    expect(wasmtimeQuickStartEnv).toEqual({ ALLOWED_TARGETS: '127.0.0.0/8:*' });
  });
});

for (const kind of ALL_HOSTS) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('README quick start, on ', kind), () => {
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
      // `npm start` opens loopback itself; elsewhere the README says which setting to add.
      host = await kind.start(kind.name.startsWith('local') ? {} : wasmtimeQuickStartEnv);
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
}
