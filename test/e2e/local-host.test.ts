// The local host (npm start): concurrency without head-of-line blocking, replacement of failed workers, a
// bounded queue with a wait limit, graceful shutdown, start-up errors and the transpile cache — with the
// real component and a fixture component that traps or sets no response.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { type NetworkInterfaceInfo, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type LocalHost } from '../../host/server.mjs';
// What the local host runs: the app, linked to the TLS engine by the host (no composition).
import { APP_COMPONENT_PATH } from '../../scripts/build.mjs';
import { HAS_JSPI } from '../../host/settings.mjs';
import { readJcoDebugOnce, transpiled } from '../../host/transpile-cache.mjs';
import { localHost } from '../support/hosts.js';
import { echoAndClosePeer, silentPeer, type Peer } from '../support/peers.js';

const ENV = { ALLOWED_TARGETS: '127.0.0.0/8:*', REQUEST_DEADLINE_MS: '8000' };
/** A short deadline for tests that only need a request to hold its worker for a while. */
const HOLD_ENV = { ...ENV, REQUEST_DEADLINE_MS: '2000' };
const root = fileURLToPath(new URL('../..', import.meta.url));

type ErrorBody = { error: { code: string; message: string } };

describe('the local host', () => {
  let silent: Peer;
  let echo: Peer;
  let scratch = '';
  const servers: LocalHost[] = [];
  const start = async (options: Partial<Parameters<typeof startServer>[0]>, testHooks?: Parameters<typeof startServer>[1]) => {
    const server = await startServer({ componentPath: APP_COMPONENT_PATH, env: ENV, ...options }, testHooks);
    servers.push(server);
    await server.ready;
    return server;
  };
  /** Resolves once `server` has no idle worker, i.e. a request took the last one. */
  const allBusy = (server: LocalHost) => expect.poll(() => server.stats().idle, { timeout: 10_000 }).toBe(0);

  beforeAll(async () => {
    silent = await silentPeer();
    echo = await echoAndClosePeer();
    scratch = mkdtempSync(join(tmpdir(), 'local-host-test-'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close(0)));
    await Promise.all([silent?.close(), echo?.close()]);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test.each([
    ['the default', undefined, HAS_JSPI ? 'worker' : 'io-thread'],
    ['HOST_SOCKETS=io-thread', 'io-thread', 'io-thread'],
  ] as const)('sockets, %s: on the workers\' own threads where Node has JSPI (24+), else through the I/O thread', async (_, asked, expected) => {
    const server = await start({ poolSize: 1, ...(asked ? { sockets: asked } : {}) });
    expect(server.sockets).toBe(expected);
    const r = await fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${echo.port}&msg=mode`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('echo:mode');
  });

  /** Sends a POST head announcing `announced` body bytes, then `body`, without reading anything meanwhile. */
  const uploadWithoutReading = async (server: LocalHost, announced: number, body: Buffer) => {
    const socket = net.connect(server.port, '127.0.0.1');
    // Nothing is read until the upload is handed over: an answer closed under unread bytes is reset, and a reset
    // drops the answer waiting in this side's receive queue.
    socket.pause();
    const state = { text: '', failure: undefined as string | undefined, closed: false };
    socket.on('error', (error: NodeJS.ErrnoException) => (state.failure ??= error.code));
    socket.on('close', () => (state.closed = true));
    socket.write(`POST /tcp/send?host=127.0.0.1&port=${echo.port} HTTP/1.1\r\nhost: x\r\ncontent-length: ${announced}\r\n\r\n`);
    await new Promise((resolve) => socket.write(body, resolve));
    socket.on('data', (chunk: Buffer) => (state.text += chunk.toString('latin1')));
    socket.resume();
    return { socket, state };
  };
  const TOO_LONG_ANSWER = /^HTTP\/1\.1 413 [^]*"code":"message-too-large"[^]*\}\}$/;

  test('a body too long to read is drained after its 413: the client reads the answer, and the connection serves the next request', async () => {
    const server = await start({ poolSize: 1 });
    const body = Buffer.alloc(8 * 2 ** 20);
    const { socket, state } = await uploadWithoutReading(server, body.length, body);
    await expect.poll(() => state.text).toMatch(TOO_LONG_ANSWER);
    expect(state.failure).toBeUndefined();
    state.text = '';
    socket.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
    await expect.poll(() => state.text).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nok$/);
    socket.destroy();
  });

  test('a client that stops in the middle of a body too long to read gets its 413, then the host drops the connection', async () => {
    const server = await start({ poolSize: 1 });
    const { socket, state } = await uploadWithoutReading(server, 8 * 2 ** 20, Buffer.alloc(512 * 1024));
    await expect.poll(() => state.text).toMatch(TOO_LONG_ANSWER);
    await expect.poll(() => state.closed).toBe(true);
    expect(server.openConnections()).toBe(0);
    socket.destroy();
  });

  test.runIf(HAS_JSPI)('on its own thread, one worker thread runs several instances at once: two wait on a silent peer while a third answers', async () => {
    const own = await silentPeer();
    const server = await start({ poolSize: 3 }, { threads: 1 });
    expect(server.threads()).toBe(1);
    let stuckEnded = false;
    const stuck = [0, 1].map(() => fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${own.port}&msg=x`).catch(() => undefined).finally(() => (stuckEnded = true)));
    await expect.poll(() => own.openConnections()).toBe(2);
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${echo.port}&msg=n${i}`);
      expect(await r.text()).toBe(`echo:n${i}`);
    }
    // Answered while the two still wait (their deadline is REQUEST_DEADLINE_MS, 8 s): not one after another.
    expect(stuckEnded).toBe(false);
    expect(server.threads()).toBe(1);
    await server.close(0);
    await Promise.all(stuck);
    await own.close();
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
    const server = await start({ poolSize: 1, queueLimit: 1, env: HOLD_ENV });
    const first = fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${silent.port}&msg=x`);
    await allBusy(server);
    const queued = fetch(`${server.url}/health`);
    await expect.poll(() => server.stats().queued).toBe(1);
    const rejected = await fetch(`${server.url}/health`);
    expect(rejected.status).toBe(503);
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect(((await rejected.json()) as ErrorBody).error.code).toBe('host-busy');
    expect((await first).status).toBe(504);
    expect(await (await queued).text()).toBe('ok');
  });

  test('an instance whose linear memory passes its limit is replaced by a fresh one after its answer, and no request fails', async () => {
    const lines: string[] = [];
    // 1 byte: every instance is over it after its first request, so each request meets a fresh instance.
    const server = await start({ poolSize: 1, log: (line) => lines.push(line) }, { instanceMemoryLimitBytes: 1 });
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${echo.port}&msg=m${i}`);
      expect(await r.text()).toBe(`echo:m${i}`);
    }
    // The worker's log lines come through its stderr, a moment after its replies.
    const replaced = () => lines.filter((line) => /an instance's memory reached [1-9][0-9]* MiB \(limit 0 MiB\); replacing it with a fresh one/.test(line));
    await expect.poll(() => replaced().length).toBe(3);
  });

  test('requests still sending their body count against POOL_SIZE + QUEUE_LIMIT: one more is refused 503 host-busy before its body is read', async () => {
    const server = await start({ poolSize: 1, queueLimit: 1, env: HOLD_ENV });
    const first = fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${silent.port}&msg=x`);
    await allBusy(server);
    // The second announces a body and sends a part of it: it holds the queue's one place while it uploads.
    const uploading = net.connect(server.port, '127.0.0.1');
    uploading.write(`POST /tcp/send?host=127.0.0.1&port=${echo.port} HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n0123456789`);
    // The third announces a body and sends none of it: answered at once, without waiting for the body.
    const refused = net.connect(server.port, '127.0.0.1');
    let answer = '';
    refused.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    await expect.poll(() => server.stats().inFlight).toBe(2);
    refused.write(`POST /tcp/send?host=127.0.0.1&port=${echo.port} HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n`);
    await expect.poll(() => answer).toMatch(/^HTTP\/1\.1 503 [^]*retry-after: 1[^]*"code":"host-busy","message":"all 1 worker are busy and 1 requests are queued; retry shortly"/i);
    expect((await first).status).toBe(504);
    uploading.destroy();
    refused.destroy();
  });

  test('a request that waits longer than QUEUE_WAIT_MS for a worker gets 503 host-busy, not a hang', async () => {
    const server = await start({ poolSize: 1, queueWaitMs: 200, env: HOLD_ENV });
    const first = fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${silent.port}&msg=x`);
    await allBusy(server);
    const waited = await fetch(`${server.url}/health`);
    expect(waited.status).toBe(503);
    expect(waited.headers.get('retry-after')).toBe('1');
    const body = (await waited.json()) as ErrorBody;
    expect(body.error.code).toBe('host-busy');
    expect(body.error.message).toContain('QUEUE_WAIT_MS');
    expect(server.stats().queued).toBe(0);
    expect((await first).status).toBe(504);
  });

  test('a worker that answers out of step is replaced and its request answered 502 at once', async () => {
    const lines: string[] = [];
    const server = await start({ poolSize: 1, log: (line) => lines.push(line) }, { workerUrl: new URL('../fixtures/out-of-step-worker.mjs', import.meta.url) });
    const before = server.workerIds();
    const r = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(20_000) });
    expect(r.status).toBe(502);
    expect(((await r.json()) as ErrorBody).error.code).toBe('component-failed');
    await expect.poll(() => server.workerIds().some((id) => before.includes(id)), { timeout: 10_000 }).toBe(false);
    expect(server.stats().workers).toBe(1);
    expect(lines.join('\n')).toMatch(/a worker answered request \d+ while handling request \d+; replacing it/);
  });

  test('an error inside the request handler that is not a pool error is answered 500 internal, and the host keeps serving', async () => {
    const lines: string[] = [];
    const server = await start({ poolSize: 1, log: (line) => lines.push(line) }, { workerUrl: new URL('../fixtures/malformed-reply-worker.mjs', import.meta.url) });
    const r = await fetch(`${server.url}/malformed`, { signal: AbortSignal.timeout(20_000) });
    expect(r.status).toBe(500);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(((await r.json()) as ErrorBody).error.code).toBe('internal');
    expect(lines.join('\n')).toContain('GET /malformed failed in the host');
    expect(await (await fetch(`${server.url}/after`)).text()).toBe('ok');
  });

  test('a client that disconnects in the middle of its request body: nothing of it reaches the peer, and the host keeps nothing for it', async () => {
    const peer = await echoAndClosePeer();
    try {
      const server = await start({ poolSize: 1 });
      const client = net.connect(server.port, '127.0.0.1');
      await new Promise((resolve) => client.once('connect', resolve));
      client.write(`POST /tcp/send?host=127.0.0.1&port=${peer.port} HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\npartial body`);
      await expect.poll(() => server.openConnections()).toBe(1);
      client.destroy();
      await expect.poll(() => server.openConnections()).toBe(0);
      // One worker takes requests in order: had the partial body been handed on, the peer would see it first.
      const next = await fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${peer.port}&msg=next`);
      expect(await next.text()).toBe('echo:next');
      expect(peer.received.map(String)).toEqual(['next']);
      expect(server.stats()).toEqual({ workers: 1, idle: 1, queued: 0, inFlight: 0 });
    } finally {
      await peer.close();
    }
  });

  describe('with a component that traps or sets no response', () => {
    let fixture = '';
    beforeAll(async () => {
      // Built here from test/fixtures/trap-component.js, in this process, like the real build.
      const { componentize } = await import('@bytecodealliance/componentize-js');
      const { component } = await componentize({
        sourcePath: join(import.meta.dirname, '../fixtures/trap-component.js'),
        witPath: join(import.meta.dirname, '../../wit'),
        worldName: 'ai-agent-sockets',
      });
      fixture = join(scratch, 'trap.wasm');
      await writeFile(fixture, component);
    });

    test('the trapping request is answered with 502 component-failed, its worker replaced, the trap logged, and service goes on', async () => {
      const lines: string[] = [];
      const server = await start({ componentPath: fixture, poolSize: 2, log: (line) => lines.push(line) });
      const before = server.workerIds();
      const r = await fetch(`${server.url}/trap`);
      expect(r.status).toBe(502);
      expect(((await r.json()) as ErrorBody).error.code).toBe('component-failed');
      for (let i = 0; i < 6; i++) expect(await (await fetch(`${server.url}/x`)).text()).toBe('ok');
      await expect.poll(() => server.stats().workers).toBe(2);
      expect(server.workerIds()).not.toEqual(before);
      // The component's own report of the trap (from the worker's stderr) and the host's line both reach the log.
      await expect.poll(() => lines.join('\n')).toContain('trap requested');
      expect(lines.join('\n')).toContain('GET /trap failed in the component');
    });

    test.runIf(HAS_JSPI)('a trap on a shared thread ends only its instance: the thread and its other instance keep serving', async () => {
      const server = await start({ componentPath: fixture, poolSize: 2, log: () => {} }, { threads: 1 });
      const before = server.workerIds();
      expect((await fetch(`${server.url}/trap`)).status).toBe(502);
      for (let i = 0; i < 4; i++) expect(await (await fetch(`${server.url}/x`)).text()).toBe('ok');
      await expect.poll(() => server.stats().workers).toBe(2);
      expect(server.workerIds()).not.toEqual(before);
      expect(server.threads()).toBe(1);
    });

    test('a worker whose component sets no response is replaced, so the pool keeps its size', async () => {
      const lines: string[] = [];
      const server = await start({ componentPath: fixture, poolSize: 2, log: (line) => lines.push(line) });
      // Both workers at once, so each of them gets one (one after another, the second request could go to the
      // first one's replacement).
      await expect.poll(() => server.stats().idle).toBe(2);
      const before = server.workerIds();
      const replies = await Promise.all([0, 1].map(() => fetch(`${server.url}/no-response`, { signal: AbortSignal.timeout(20_000) })));
      for (const r of replies) {
        expect(r.status).toBe(502);
        expect(((await r.json()) as ErrorBody).error.code).toBe('component-failed');
      }
      await expect.poll(() => server.workerIds().some((id) => before.includes(id)), { timeout: 10_000 }).toBe(false);
      await expect.poll(() => server.stats()).toEqual({ workers: 2, idle: 2, queued: 0, inFlight: 0 });
      for (let i = 0; i < 4; i++) expect(await (await fetch(`${server.url}/x`)).text()).toBe('ok');
      expect(lines.join('\n')).toContain('the component set no response');
    });

    test('the transpile cache is keyed by the component hash, and a second start reuses it', async () => {
      const a = await transpiled(APP_COMPONENT_PATH);
      const again = await transpiled(APP_COMPONENT_PATH);
      const b = await transpiled(fixture);
      expect(again).toEqual({ ...a, cached: true });
      expect(b.hash).not.toBe(a.hash);
    });
  });

  test('hosts starting at the same time on a cold cache share one transpiled entry', async () => {
    const cold = mkdtempSync(join(scratch, 'transpile-cache-'));
    const results = await Promise.all(Array.from({ length: 4 }, () => transpiled(APP_COMPONENT_PATH, cold)));
    expect(new Set(results.map((r) => r.entry)).size).toBe(1);
    expect(results.filter((r) => !r.cached)).toHaveLength(1);
  });

  test('a new transpile prunes the cache to the CACHE_KEEP_ENTRIES (5) most recently used entries', async () => {
    const cache = mkdtempSync(join(scratch, 'transpile-prune-'));
    const old = Array.from({ length: 6 }, (_, i) => `old-${i}`);
    old.forEach((name, i) => {
      mkdirSync(join(cache, name));
      const when = new Date(Date.now() - (i + 1) * 60_000); // old-0 is the most recent
      utimesSync(join(cache, name), when, when);
    });
    const { hash } = await transpiled(APP_COMPONENT_PATH, cache);
    // The new entry and the four most recent old ones: written out, so a change of the constant or of the order shows.
    expect(readdirSync(cache).sort()).toEqual([hash, 'old-0', 'old-1', 'old-2', 'old-3'].sort());
  });

  test('readJcoDebugOnce keeps JCO_DEBUG working but reads it once', () => {
    const generated = "const _debugLog = (...args) => {\n  if (!globalThis?.process?.env?.JCO_DEBUG) { return; }\n  console.debug(...args);\n};\n_debugLog('x');";
    const patched = readJcoDebugOnce(generated);
    expect(patched).toContain('const _jcoDebug = !!globalThis?.process?.env?.JCO_DEBUG;');
    expect(patched.match(/process\?\.env/g)).toHaveLength(1);
  });

  test('readJcoDebugOnce fails loudly when jco no longer generates the helper it patches', () => {
    expect(() => readJcoDebugOnce('const _debugLog = (...args) => console.debug(...args);')).toThrow(/_debugLog.*readJcoDebugOnce/);
  });

  /** The refusal of a request to `where`, the server's own address. */
  const ownAddressRefusal = (where: string) => ({
    error: { code: 'destination-denied', message: `${where} is not allowed: it is this server's own address (OWN_ADDRESSES): a request to it would loop back into the server` },
  });

  test("a request to the host's own address and port is 403 destination-denied as the server's own address, though ALLOWED_TARGETS names it", async () => {
    const server = await start({ poolSize: 1, env: { ...ENV, ALLOWED_TARGETS: '127.0.0.1:*' } });
    const r = await fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${server.port}&msg=x`);
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual(ownAddressRefusal(`127.0.0.1:${server.port}`));
    // Only the server's own port: the same address on another port is a target like any other.
    const echoed = await fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${echo.port}&msg=other`);
    expect(await echoed.text()).toBe('echo:other');
  });

  test('listening on ::, every local address on its port is its own: loopback, 0.0.0.0, each interface address', async () => {
    const local = Object.values(networkInterfaces()).flatMap((list) => list ?? []).filter((info) => !info.internal);
    const bracketed = (info: NetworkInterfaceInfo) => (info.family === 'IPv6' ? `[${info.address}]` : info.address);
    const token = 'own-address-test-token-0123456789';
    // Every address allowed explicitly: the only reason left for a refusal is that the address is the server's.
    const allowed = ['127.0.0.0/8:*', '[::1]:*', '0.0.0.0:*', '[::]:*', ...local.map((info) => `${bracketed(info)}:*`)];
    const server = await start({ host: '::', poolSize: 1, env: { ...ENV, AUTH_TOKEN: token, ALLOWED_TARGETS: allowed.join(',') } });
    const at = `http://127.0.0.1:${server.port}`;
    const ask = (host: string) => fetch(`${at}/tcp/send?host=${encodeURIComponent(host)}&port=${server.port}&msg=x`, { headers: { authorization: `Bearer ${token}` } });
    const shown = new Map([['[::ffff:127.0.0.1]', '127.0.0.1']]);
    for (const host of ['127.0.0.1', '127.0.0.2', '[::1]', '[::ffff:127.0.0.1]', '0.0.0.0', '[::]', ...local.map(bracketed)]) {
      const r = await ask(host);
      expect(r.status, host).toBe(403);
      expect(await r.json(), host).toEqual(ownAddressRefusal(`${shown.get(host) ?? host}:${server.port}`));
    }
    const byName = await ask('localhost');
    expect(byName.status).toBe(403);
    expect(((await byName.json()) as ErrorBody).error.message).toMatch(new RegExp(`^localhost:${server.port} \\(resolved to [^)]+\\) is not allowed: it is this server's own address`));
  });

  test('SIGTERM lets a request in flight finish, then the process exits 0', async () => {
    const own = await silentPeer();
    try {
      const host = await localHost.start({ ...ENV, REQUEST_DEADLINE_MS: '1500', POOL_SIZE: '1' });
      expect(host.log()).toMatch(/\(1 worker( on 1 thread|, a thread each), sockets /);
      const inFlight = fetch(`${host.url}/tcp/send?host=127.0.0.1&port=${own.port}&msg=x`);
      await expect.poll(() => own.openConnections()).toBe(1);
      process.kill(host.pid, 'SIGTERM');
      const r = await inFlight;
      expect(r.status).toBe(504);
      expect(((await r.json()) as ErrorBody).error.code).toBe('read-timeout');
      expect(await host.exited).toBe(0);
      expect(host.log()).toContain('SIGTERM: finishing requests in flight');
      await expect(fetch(`${host.url}/health`)).rejects.toThrow();
    } finally {
      await own.close();
    }
  });

  test('npm start on a port already in use exits 1 with one line that says so, not a stack trace', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const child = spawn(process.execPath, ['host/start.mjs'], {
        cwd: root,
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(output.trim().split('\n')).toEqual([`ai-agent-sockets cannot listen on 127.0.0.1:${port}: the port is already in use: stop what holds it, or set PORT to another port (0: any free port)`]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
