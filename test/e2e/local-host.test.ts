// The local host (npm start): concurrency without head-of-line blocking, trap recovery, a bounded queue,
// graceful shutdown and the transpile cache — with the real component and a trapping fixture component.

import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type LocalHost } from '../../host/server.mjs';
import { readJcoDebugOnce, transpiled } from '../../host/transpile-cache.mjs';
import { COMPONENT, localHost } from '../support/hosts.js';
import { echoAndClosePeer, silentPeer, type Peer } from '../support/peers.js';

const ENV = { ALLOWED_TARGETS: '127.0.0.0/8:*', REQUEST_DEADLINE_MS: '8000' };

describe('the local host', () => {
  let silent: Peer;
  let echo: Peer;
  const servers: LocalHost[] = [];
  const start = async (options: Partial<Parameters<typeof startServer>[0]>) => {
    const server = await startServer({ componentPath: COMPONENT, env: ENV, ...options });
    servers.push(server);
    await server.ready;
    return server;
  };

  beforeAll(async () => {
    silent = await silentPeer();
    echo = await echoAndClosePeer();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close(0)));
    await Promise.all([silent?.close(), echo?.close()]);
  });

  test('a silent peer holds only its own request: others are answered while it waits', async () => {
    const server = await start({ poolSize: 2 });
    let stuckDone = false;
    const stuck = fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${silent.port}&msg=x`).then((r) => {
      stuckDone = true;
      return r.status;
    });
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${echo.port}&msg=n${i}`);
      expect(await r.text()).toBe(`echo:n${i}`);
    }
    expect(stuckDone).toBe(false);
    expect(await stuck).toBe(504);
  });

  test('requests beyond the pool wait in the queue; beyond QUEUE_LIMIT they get 503 host-busy', async () => {
    const server = await start({ poolSize: 1, queueLimit: 1 });
    const first = fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${silent.port}&msg=x`);
    await new Promise((r) => setTimeout(r, 200));
    const queued = fetch(`${server.url}/health`);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.stats().queued).toBe(1);
    const rejected = await fetch(`${server.url}/health`);
    expect(rejected.status).toBe(503);
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect(((await rejected.json()) as { error: { code: string } }).error.code).toBe('host-busy');
    expect((await first).status).toBe(504);
    expect(await (await queued).text()).toBe('ok');
  });

  describe('with a component that traps', () => {
    let trapping = '';
    beforeAll(async () => {
      // Built here from test/fixtures/trap-component.js, in this process, like the real build.
      const { componentize } = await import('@bytecodealliance/componentize-js');
      const { component } = await componentize({
        sourcePath: join(import.meta.dirname, '../fixtures/trap-component.js'),
        witPath: join(import.meta.dirname, '../../wit'),
        worldName: 'ai-agent-sockets',
      });
      trapping = join(mkdtempSync(join(tmpdir(), 'trap-')), 'trap.wasm');
      await writeFile(trapping, component);
    });

    test('the trapping request is answered with 502 component-failed, its worker replaced, and service goes on', async () => {
      const original = console.error;
      console.error = () => {};
      try {
        const server = await start({ componentPath: trapping, poolSize: 2 });
        const before = server.threadIds();
        const r = await fetch(`${server.url}/trap`);
        expect(r.status).toBe(502);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe('component-failed');
        for (let i = 0; i < 6; i++) expect(await (await fetch(`${server.url}/x`)).text()).toBe('ok');
        await expect.poll(() => server.stats().workers).toBe(2);
        expect(server.threadIds()).not.toEqual(before);
      } finally {
        console.error = original;
      }
    });

    test('the transpile cache is keyed by the component hash, and a second start reuses it', async () => {
      const a = await transpiled(COMPONENT);
      const again = await transpiled(COMPONENT);
      const b = await transpiled(trapping);
      expect(again).toEqual({ ...a, cached: true });
      expect(b.hash).not.toBe(a.hash);
    });
  });

  test('hosts starting at the same time on a cold cache share one transpiled entry', async () => {
    const cold = mkdtempSync(join(tmpdir(), 'transpile-cache-'));
    const results = await Promise.all(Array.from({ length: 4 }, () => transpiled(COMPONENT, cold)));
    expect(new Set(results.map((r) => r.entry)).size).toBe(1);
    expect(results.filter((r) => !r.cached)).toHaveLength(1);
  });

  test('readJcoDebugOnce keeps JCO_DEBUG working but reads it once', () => {
    const generated = "const _debugLog = (...args) => {\n  if (!globalThis?.process?.env?.JCO_DEBUG) { return; }\n  console.debug(...args);\n};\n_debugLog('x');";
    const patched = readJcoDebugOnce(generated);
    expect(patched).toContain('const _jcoDebug = !!globalThis?.process?.env?.JCO_DEBUG;');
    expect(patched.match(/process\?\.env/g)).toHaveLength(1);
    expect(readJcoDebugOnce('unrelated code')).toBe('unrelated code');
  });

  test('SIGTERM lets a request in flight finish, then the process exits 0', async () => {
    const host = await localHost.start({ ...ENV, REQUEST_DEADLINE_MS: '1500' });
    const inFlight = fetch(`${host.url}/tcp/send?host=127.0.0.1&port=${silent.port}&msg=x`);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(host.pid, 'SIGTERM');
    const r = await inFlight;
    expect(r.status).toBe(504);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('read-timeout');
    expect(await host.exited).toBe(0);
    expect(host.log()).toContain('SIGTERM: finishing requests in flight');
    await expect(fetch(`${host.url}/health`)).rejects.toThrow();
  });
});
