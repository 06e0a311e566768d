// `npm run soak`: a mixed, hostile load through each host — good sends, silent, refused and resetting peers,
// hostile input, 2 MiB bodies, dialogues, MCP, TLS — that fails when the host's memory keeps rising after a
// warm-up, when it leaves file descriptors or sockets behind, or when any request gets a 500. It asserts memory
// and leaks, never speed. The warm-up lasts until the host's memory has made no new high for WARM_SETTLED_MS
// (at most WARM_UP_MAX_MS: a leak never settles, so it is then measured rising); SOAK_SECONDS of load follow
// (default 60), and its last third must not sit above its middle third.

import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makePki, type Pki } from '../../scripts/demo-pki.mjs';
import { localHost, openSocketCount, selectHosts, suiteName, wasmtimeHost, type RunningHost } from '../support/hosts.js';
import { eventually, startPeerSet } from '../support/peers.js';
import { tlsEchoAndClosePeer } from '../support/tls-peers.mjs';
import type { Peer } from '../support/peers.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
/** Concurrent clients, as several busy agents would make them. */
const CLIENTS = 24;
/** How often the host's resident memory is read. */
const SAMPLE_MS = 1_000;
/**
 * The warm-up ends once resident memory has made no new high for this long. It is counted in time, not requests,
 * because what fills up (each worker's heap, each instance's linear memory up to its replacement) fills by
 * requests served, and a loaded machine serves fewer per second: a fixed third of the run was too short there
 * (Node 24 in CI, with other work on the machine: 349 → 590, a dip to 532 as instances were replaced, 708, then
 * flat at 650–670 for the last 20 s, and the check compared that plateau with the climb).
 */
const WARM_SETTLED_MS = 10_000;
/** The longest warm-up: a host that still makes new highs then is measured as it is (a leak fails there). */
const WARM_UP_MAX_MS = 60_000;
/**
 * How far the last third of the run may sit above the middle third: a little for the garbage collectors' cycles,
 * far below what a leak adds (before the fixes of issue 27 the local host grew by about 40 MiB every 10 s on this mix).
 */
const MARGIN = { ratio: 0.1, mebibytes: 24 };
/** File descriptors a host may hold after the run beyond what it held before (keep-alive sockets of its own). */
const FD_SLACK = 8;
const OVERSIZED_BODY = Buffer.alloc(2 * 1024 * 1024, 'a');

/** A request of the mix: what it sends, and whether a network error is its expected end (a body cut off by the host). */
interface Kind {
  name: string;
  send: () => Promise<number>;
  mayReset?: boolean;
}

/** Resident memory of a process, MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib ?? 0) / 1024;
}

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

for (const kind of selectHosts([localHost, wasmtimeHost])) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('memory and leaks under a mixed load on ', kind), () => {
    let peers: Awaited<ReturnType<typeof startPeerSet>>;
    let tlsPeer: Peer;
    let pki: Pki;
    let host: RunningHost;

    beforeAll(async () => {
      pki = makePki();
      [peers, tlsPeer] = await Promise.all([startPeerSet(), tlsEchoAndClosePeer(pki.good)]);
      host = await kind.start({ ALLOWED_TARGETS: '127.0.0.0/8:*', TLS_CA_CERTS: pki.caPem, REQUEST_DEADLINE_MS: '300', REPLY_IDLE_MS: '100' });
    });
    afterAll(async () => {
      await host?.close();
      await Promise.all([peers?.close(), tlsPeer?.close()]);
      pki?.remove();
    });

    /** The mix, each kind as often as the others. */
    function kinds(): Kind[] {
      const { echoClose, echo, silent, reset } = peers.peers;
      const status = async (path: string, init?: RequestInit) => {
        const r = await fetch(`${host.url}${path}`, init);
        await r.arrayBuffer();
        return r.status;
      };
      const json = (body: string): RequestInit => ({ method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } });
      const dialogue = { host: '127.0.0.1', port: echo.port, steps: [{ send: { text: 'abc' }, until: { text: 'abc' } }] };
      return [
        { name: 'good send', send: () => status(`/tcp/send?host=127.0.0.1&port=${echoClose.port}&msg=hello`) },
        { name: 'silent peer', send: () => status(`/tcp/send?host=127.0.0.1&port=${silent.port}&msg=hello`) },
        { name: 'refused peer', send: () => status(`/tcp/send?host=127.0.0.1&port=${peers.refusedPort}&msg=hello`) },
        { name: 'resetting peer', send: () => status(`/tcp/send?host=127.0.0.1&port=${reset.port}&msg=hello`) },
        { name: 'junk query', send: () => status('/tcp/send?host=%00%ff&port=99999999&msg=%zz&tls=maybe&until=') },
        { name: 'bad JSON', send: () => status('/tcp/exchange', json('{"host": "127.0.0.1", "steps": [')) },
        {
          name: '2 MiB body',
          send: () => status(`/tcp/send?host=127.0.0.1&port=${echoClose.port}`, { method: 'POST', body: OVERSIZED_BODY, headers: { 'content-type': 'application/octet-stream' } }),
          mayReset: true,
        },
        { name: 'dialogue', send: () => status('/tcp/exchange', json(JSON.stringify(dialogue))) },
        { name: 'MCP tools/list', send: () => status('/mcp', json(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }))) },
        {
          name: 'MCP tools/call',
          send: () => status('/mcp', json(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'tcp_exchange', arguments: dialogue } }))),
        },
        { name: 'TLS send', send: () => status(`/tcp/send?host=127.0.0.1&port=${tlsPeer.port}&tls=true&msg=hello`) },
      ];
    }

    test(`${SECONDS} s of every kind of request at ${CLIENTS} clients: memory flat after the warm-up, no descriptor left behind, no 500`, async () => {
      const mix = kinds();
      /** status (or the network error's name) → count, per kind */
      const seen = new Map<string, Map<string, number>>(mix.map((k) => [k.name, new Map()]));
      const count = (k: Kind, outcome: string) => seen.get(k.name)!.set(outcome, (seen.get(k.name)!.get(outcome) ?? 0) + 1);
      const runOnce = async (k: Kind) => {
        try {
          count(k, String(await k.send()));
        } catch (error) {
          count(k, `network error${k.mayReset ? ' (expected)' : ''}: ${(error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`);
        }
      };
      // One of each first, then the host idles: the descriptors it holds then are its own.
      for (const k of mix) await runOnce(k);
      await eventually(async () => (await peers.peers.echo.openConnections()) === 0);
      const fdsBefore = fdCount(host.pid);
      const socketsBefore = openSocketCount(host.pid);

      // One load throughout: the clients run on while the warm-up ends and the measured part begins.
      const started = performance.now();
      let end = started + WARM_UP_MAX_MS + SECONDS * 1000;
      let warmUpMs: number | undefined;
      let high = 0;
      let highAt = started;
      const samples: number[] = [];
      const sampler = setInterval(() => {
        const now = performance.now();
        const rss = rssMiB(host.pid);
        if (warmUpMs !== undefined) {
          samples.push(rss);
          return;
        }
        if (rss > high) [high, highAt] = [rss, now];
        if (now - highAt >= WARM_SETTLED_MS || now - started >= WARM_UP_MAX_MS) {
          warmUpMs = now - started;
          end = now + SECONDS * 1000;
        }
      }, SAMPLE_MS);
      let next = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (performance.now() < end) await runOnce(mix[next++ % mix.length]!);
        }),
      );
      clearInterval(sampler);

      const settled = await eventually(async () => fdCount(host.pid) <= fdsBefore + FD_SLACK && openSocketCount(host.pid) <= socketsBefore + FD_SLACK, 15_000);
      const fdsAfter = fdCount(host.pid);
      const socketsAfter = openSocketCount(host.pid);

      const third = Math.floor(samples.length / 3);
      const middle = median(samples.slice(third, 2 * third));
      const last = median(samples.slice(2 * third));
      const outcomes = Object.fromEntries([...seen].map(([name, counts]) => [name, Object.fromEntries(counts)]));
      const report = JSON.stringify({ warmUpS: Math.round((warmUpMs ?? 0) / 1000), warmUpHighMiB: Math.round(high), rssMiB: samples.map(Math.round), middle: Math.round(middle), last: Math.round(last), fdsBefore, fdsAfter, socketsBefore, socketsAfter, outcomes }, null, 1);
      console.log(`${kind.name}: ${report}`);

      const statuses = [...seen.values()].flatMap((counts) => [...counts.keys()]);
      expect(statuses.filter((s) => s === '500'), report).toEqual([]);
      const unexpected = statuses.filter((s) => s.startsWith('network error') && !s.includes('(expected)'));
      expect(unexpected, report).toEqual([]);
      expect(seen.get('good send')!.get('200') ?? 0, report).toBeGreaterThan(0);
      expect(seen.get('TLS send')!.get('200') ?? 0, report).toBeGreaterThan(0);
      expect(seen.get('2 MiB body')!.get('413') ?? 0, report).toBeGreaterThan(0);
      expect(settled, `descriptors before ${fdsBefore}, after ${fdsAfter}; sockets before ${socketsBefore}, after ${socketsAfter}`).toBe(true);
      expect(last, `RSS, MiB: the last third's median ${Math.round(last)} against the middle third's ${Math.round(middle)}\n${report}`).toBeLessThanOrEqual(
        middle * (1 + MARGIN.ratio) + MARGIN.mebibytes,
      );
      // Still serving after it all.
      expect((await fetch(`${host.url}/health`)).status).toBe(200);
    });
  });
}
