// The run's own setup, for unit and end-to-end tests alike (the build is the end-to-end project's,
// test/support/build-component.ts). Says once why suites are skipped (a
// host or a program that is not here, test/support/tools.ts); in CI (CI=true) a missing wasmtime, wac or
// program that CI provides fails the run instead, since .ci/run installs them.
// The run gets a temporary directory of its own (TMPDIR, which os.tmpdir() and the hosts the tests start
// read): whatever is still in it at the end was left behind by a test, and fails the run.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compositionMissing, isSelected, skipReasons, wasmtimeBinary, wasmtimeHost } from './hosts.js';
import { TOOLS } from './tools.js';

/** The prefix of each run's temporary directory in the system's one. */
export const RUN_TMPDIR_PREFIX = 'ai-agent-sockets-test-';

function reportHosts(): void {
  const wantsWasmtime = isSelected(wasmtimeHost);
  if (process.env.CI === 'true' && wantsWasmtime) {
    if (!wasmtimeBinary) throw new Error('CI=true but no wasmtime was found: .ci/run installs it with `node scripts/wasmtime.mjs install`');
    if (compositionMissing) throw new Error(`CI=true but ${compositionMissing}`);
  }
  if (wantsWasmtime && wasmtimeBinary && !compositionMissing) console.log(`end-to-end suites run on ${wasmtimeHost.name} (${wasmtimeBinary})`);
  for (const reason of skipReasons) console.log(`host suites skipped: ${reason}`);
}

function reportTools(): void {
  const missing = TOOLS.filter((tool) => tool.missing);
  const promised = missing.filter((tool) => tool.inCi);
  if (process.env.CI === 'true' && promised.length > 0) throw new Error(`CI=true but ${promised.map((tool) => tool.missing).join('; ')}`);
  // wasi-compat checks the composed components only where wac made them; said here when no host suite said it.
  if (compositionMissing && !skipReasons.includes(compositionMissing)) console.log(`suites skipped: ${compositionMissing}`);
  for (const tool of missing) console.log(`suites skipped: ${tool.missing}`);
}

/**
 * Points TMPDIR at a fresh directory for this run; the teardown it returns fails when something is left in it
 * (naming what), and removes it either way. A directory per run, so runs side by side and other programs
 * writing to the system's temporary directory cannot make it fail.
 */
function ownTmpdir(): () => void {
  const dir = mkdtempSync(join(tmpdir(), RUN_TMPDIR_PREFIX));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    const left = readdirSync(dir);
    rmSync(dir, { recursive: true, force: true });
    if (left.length === 0) return;
    // vitest only reports an error thrown here; the exit code is what makes it fail the run.
    console.error(`FAILED: tests left ${left.length} temporary file(s) or folder(s) behind in ${dir} (removed now): ${left.sort().join(', ')}`);
    process.exitCode = 1;
  };
}

export default function setup(): () => void {
  reportHosts();
  reportTools();
  return ownTmpdir();
}
