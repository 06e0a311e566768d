// Starts the built component on each host: the local jco host always, wasmtime when installed (CI installs it),
// Spin when on PATH. TEST_HOSTS=local,wasmtime,spin narrows the list (CI reruns the wasmtime suites that way
// on the oldest supported release, with WASMTIME pointing at it).

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { INSTANCE_REUSE, PER_REQUEST_TUNING, SERVING_LINE, findWasmtime, tuningFor, wasmtimeVersion } from '../../scripts/wasmtime.mjs';
import { PORTABLE_COMPONENT_PATH, findWac } from '../../scripts/build.mjs';
import { onPath, spawnHost, startLocalHost, startSpinHost, startWasmtimeHost, type RunningHost } from './host-process.mjs';

export type { RunningHost };
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface HostKind {
  name: string;
  /** Why the host cannot run here, or undefined when it can. */
  unavailable?: string;
  /** Whether the host lets the component resolve names (Spin never does). */
  resolvesNames: boolean;
  start(env: Record<string, string>): Promise<RunningHost>;
}

export const localHost: HostKind = {
  name: 'local host (npm start: jco + preview2-shim)',
  resolvesNames: true,
  start: (env) => startLocalHost(env),
};

const wasmtime = findWasmtime();
/** The wasmtime binary the suites run on, for the run's report. */
export const wasmtimeBinary = wasmtime;
const wasmtimeRelease = wasmtime ? wasmtimeVersion(wasmtime) : undefined;
/** Why the composed component (app + TLS engine) that wasmtime and Spin run cannot be built here. */
export const compositionMissing = findWac()
  ? undefined
  : 'wac is not installed, so the composed component (app + TLS engine) is not built (`cargo install wac-cli --locked --version 0.12.0`; .ci/run installs it)';
/** The shipped allocator options this release knows (the oldest tested one lacks `pooling-pagemap-scan`). */
const wasmtimeTuning = wasmtime ? tuningFor(wasmtime) : [];
/** Why the wasmtime suites cannot run here, or undefined when they can. */
const wasmtimeMissing = wasmtime
  ? compositionMissing
  : 'wasmtime is not installed (`node scripts/wasmtime.mjs install` puts the tested release in .cache/wasmtime; or set WASMTIME)';
const wasmtimeLabel = `wasmtime serve${wasmtimeRelease ? ` ${wasmtimeRelease}` : ''}`;
/** wasmtime's instance-reuse options exist since release 39. */
const reuseUnsupported = wasmtimeRelease && Number(wasmtimeRelease.split('.')[0]) < 39 ? `wasmtime ${wasmtimeRelease} has no instance reuse (39+)` : undefined;

/**
 * `wasmtime serve` as the README writes it (scripts/wasmtime.mjs: per-request instances on the tuned pooling
 * allocator), on a port of its own choosing; with instance reuse added for the reuse host.
 */
function wasmtimeKind(variant: { nameLookup: boolean; reuse: boolean }): HostKind {
  const label = [wasmtimeLabel, variant.nameLookup ? '' : 'without -S allow-ip-name-lookup', variant.reuse ? 'with instance reuse' : ''].filter(Boolean).join(' ');
  return {
    name: label,
    unavailable: wasmtimeMissing ?? (variant.reuse ? reuseUnsupported : undefined),
    resolvesNames: variant.nameLookup,
    start: (env) =>
      startWasmtimeHost({ binary: wasmtime!, env, nameLookup: variant.nameLookup, tuning: wasmtimeTuning, extra: variant.reuse ? INSTANCE_REUSE : [] }),
  };
}

export const wasmtimeHost = wasmtimeKind({ nameLookup: true, reuse: false });
/** The original's command line: no name lookups. */
export const wasmtimeNoLookupHost = wasmtimeKind({ nameLookup: false, reuse: false });
/** One instance serves many requests, one at a time: every suite runs here too, so state leaking between requests would show. */
export const wasmtimeReuseHost = wasmtimeKind({ nameLookup: true, reuse: true });

/**
 * The container image's CMD (Dockerfile), run as the image would run it, with the component file and port
 * swapped for local ones: settings reach it as the process environment, as with `docker run -e`.
 */
export const containerCommandHost: HostKind = {
  name: `${wasmtimeLabel} as the Dockerfile's CMD`,
  unavailable: wasmtimeMissing,
  resolvesNames: true,
  start(env) {
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(readFileSync(`${root}Dockerfile`, 'utf8'))![1]!) as string[];
    const local = cmd.slice(1).map((arg) => (arg === '/app/ai-agent-sockets.wasm' ? PORTABLE_COMPONENT_PATH : arg === '0.0.0.0:8081' ? '127.0.0.1:0' : arg));
    // An older release runs it without the allocator options it does not know, as the other wasmtime hosts do.
    const unknown = new Set(PER_REQUEST_TUNING.filter((arg) => arg !== '-O' && !wasmtimeTuning.includes(arg)));
    const args = local.filter((arg, i) => !unknown.has(arg) && !(arg === '-O' && unknown.has(local[i + 1]!)));
    return spawnHost(wasmtime!, args, { env, urlFrom: (log) => SERVING_LINE.exec(log)?.[1] });
  },
};

export const spinHost: HostKind = {
  name: 'spin up',
  unavailable: onPath('spin') ? compositionMissing : 'spin is not on PATH (it has no registry package; docs/HOSTS.md)',
  resolvesNames: false,
  // Tests talk only to loopback: the manifest's public DNS servers are dropped unless a test names its own.
  start: (env) => startSpinHost({ DNS_SERVERS: '', ...env }),
};

/** A host suite's name; why a host is unavailable is said once per run, by the global setup. */
export function suiteName(prefix: string, kind: HostKind): string {
  return `${prefix}${kind.name}${kind.unavailable ? ' (skipped)' : ''}`;
}

const selected = process.env.TEST_HOSTS?.split(',').map((name) => name.trim());
/** Whether TEST_HOSTS selects the host (all are selected when it is unset), by the first word of its name: local, wasmtime, spin. */
export function isSelected(kind: HostKind): boolean {
  return !selected || selected.includes(kind.name.split(/[\s(]/)[0]!);
}

/**
 * The hosts, each a host the run uses or one marked unavailable because TEST_HOSTS leaves it out: every suite
 * is still defined, so a suite for a host the run does not select is reported as skipped, never as a file
 * without suites.
 */
export function selectHosts(kinds: HostKind[]): HostKind[] {
  return kinds.map((kind) => (isSelected(kind) ? kind : { ...kind, unavailable: `TEST_HOSTS=${process.env.TEST_HOSTS} does not select it` }));
}

export const ALL_HOSTS = selectHosts([localHost, wasmtimeHost, wasmtimeReuseHost, spinHost]);

/** Why each host the run selected is skipped, each reason once. */
export const skipReasons = [...new Set([...ALL_HOSTS, wasmtimeNoLookupHost].filter(isSelected).flatMap((kind) => (kind.unavailable ? [kind.unavailable] : [])))];

/** Sockets a process holds open (Linux /proc), for leak checks. */
export function openSocketCount(pid: number): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++;
    } catch {
      // closed while we looked
    }
  }
  return count;
}
