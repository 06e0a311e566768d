// `node bench/memory.mjs [upload|send]`: issue 27's measurement. The local host (`npm start`, on the Node given
// by MEMORY_NODE, this one by default) under 50 connections for BENCH_SECONDS (default 60), its RSS every 10 s:
// `upload` is POST /tcp/send with a 2 MiB body (413 each), `send` a good GET /tcp/send to an echo peer.
// Prints one JSON line: the requests, their statuses, and the RSS samples in MiB.

import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { startLocalHost } from '../test/support/host-process.mjs';
import { echoAndClosePeer } from '../test/support/tcp-peers.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const SAMPLE_MS = 10_000;
const load = process.argv[2] ?? 'upload';
const node = process.env.MEMORY_NODE ?? process.execPath;

const peer = await echoAndClosePeer();
const host = await startLocalHost({ ALLOWED_TARGETS: '127.0.0.0/8:*' }, node);
/** Resident memory of the host process (its workers are threads of it), MiB. */
const rssMiB = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${host.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
const target = `${host.url}/tcp/send?host=127.0.0.1&port=${peer.port}`;
const request =
  load === 'upload'
    ? { url: target, method: /** @type {const} */ ('POST'), body: Buffer.alloc(2 * 1024 * 1024, 'a'), headers: { 'content-type': 'application/octet-stream' } }
    : { url: `${target}&msg=hello` };
const samples = [rssMiB()];
const sampler = setInterval(() => samples.push(rssMiB()), SAMPLE_MS);
const result = await autocannon({ ...request, connections: 50, duration: SECONDS });
clearInterval(sampler);
samples.push(rssMiB());
const nodeVersion = node === process.execPath ? process.version : 'MEMORY_NODE';
console.log(JSON.stringify({ node: nodeVersion, load, seconds: SECONDS, requests: result.requests.total, statuses: result.statusCodeStats, errors: result.errors, rssMiB: samples }));
await host.close();
await peer.close();
