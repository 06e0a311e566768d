// The programs some suites need besides Node, each looked up once: a suite whose program is missing is
// skipped, and the global setup says why, once per run. A machine with only Node runs every other suite
// (.ci/fresh-clone proves it). In CI (CI=true) a program CI provides is never missing: there its absence fails
// the run instead of skipping suites.

import { accessSync, constants } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Tool {
  /** The program's path, when it is here. */
  path?: string;
  /** Why the suites that need it are skipped, with how to install it; undefined when it is here. */
  missing?: string;
  /** Whether CI provides it (.ci/run installs it, or its machine has it): then CI=true fails without it. */
  inCi: boolean;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `name` in a PATH directory; with `sbin`, also in the `sbin` directory beside each `bin` one, since Debian's
 * PATH for a user other than root leaves out /usr/sbin, where dnsmasq-base installs dnsmasq.
 */
export function findOnPath(name: string, { sbin = false } = {}): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const withSbin = sbin ? dirs.flatMap((dir) => (basename(dir) === 'bin' ? [dir, join(dirname(dir), 'sbin')] : [dir])) : dirs;
  return withSbin.map((dir) => join(dir, name)).find(isExecutable);
}

function tool(path: string | undefined, missing: string, inCi: boolean): Tool {
  return path ? { path, inCi } : { missing, inCi };
}

/** Debian's dnsmasq (package dnsmasq-base): the real DNS server of the DNS-over-TCP suites. */
export const dnsmasq = tool(findOnPath('dnsmasq', { sbin: true }), 'dnsmasq is not installed, so the DNS-over-TCP suites are skipped (apt-get install dnsmasq-base; .ci/run installs it)', true);

/** Where .ci/run installs the pinned release: `python3 -m venv .cache/schemathesis && .cache/schemathesis/bin/pip install schemathesis==4.32.5`. */
const schemathesisPath = process.env.SCHEMATHESIS ?? `${root}.cache/schemathesis/bin/schemathesis`;
/** schemathesis (PyPI), the OpenAPI-driven fuzzer of test/e2e/openapi-fuzz.test.ts. */
export const schemathesis = tool(
  isExecutable(schemathesisPath) ? schemathesisPath : undefined,
  `schemathesis is not installed at ${schemathesisPath}, so the OpenAPI fuzzing suites are skipped (.ci/run installs it; or set SCHEMATHESIS)`,
  true,
);

/** openssl, which makes the test PKI (scripts/demo-pki.mjs) of the TLS suites and the README's demo peers. */
export const openssl = tool(findOnPath('openssl'), 'openssl is not on PATH, so the TLS and README quick start suites are skipped (they make their certificates with it)', true);

/** curl, which runs the README's examples. */
export const curl = tool(findOnPath('curl'), 'curl is not on PATH, so the README quick start suites are skipped (they run its curl lines)', true);

/** Debian's redis-server (built with TLS), a real TLS server of the TLS and secrets suites (.ci/run installs it). */
export const redisServer = tool(findOnPath('redis-server'), "redis-server is not on PATH, so the TLS and secrets suites' redis-server tests are skipped (apt-get install redis-server; .ci/run installs it)", true);

/** Debian's chronyd (package chrony), the real NTP server of the UDP suite (.ci/run installs it). */
export const chronyd = tool(findOnPath('chronyd', { sbin: true }), "chronyd is not installed, so the UDP suite's NTP test is skipped (apt-get install chrony; .ci/run installs it)", true);

/** Every tool above, for the global setup's report. */
export const TOOLS: Tool[] = [dnsmasq, schemathesis, openssl, curl, redisServer, chronyd];

/** The first reason among `tools` that a suite needing all of them cannot run, or undefined. */
export function missingOf(...tools: Tool[]): string | undefined {
  return tools.find((t) => t.missing)?.missing;
}

/**
 * `kind` (a host), marked unavailable when one of `tools` is missing: a host suite that needs them is then
 * skipped like one whose host is missing, and named so (suiteName).
 */
export function needing<Kind extends { unavailable?: string }>(kind: Kind, ...tools: Tool[]): Kind {
  return { ...kind, unavailable: kind.unavailable ?? missingOf(...tools) };
}
