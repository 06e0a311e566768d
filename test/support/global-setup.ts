// Builds the component once per test run when its inputs changed, so every end-to-end test drives current code.
// The build runs in its own Node process, exactly as `npm run build` does. Says once why host suites are
// skipped; in CI (CI=true) a missing wasmtime (or wac, which composes what it runs) fails the run instead, since
// CI installs both.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compositionMissing, isSelected, skipReasons, wasmtimeBinary, wasmtimeHost } from './hosts.js';

function reportHosts(): void {
  const wantsWasmtime = isSelected(wasmtimeHost);
  if (process.env.CI === 'true' && wantsWasmtime) {
    if (!wasmtimeBinary) throw new Error('CI=true but no wasmtime was found: .ci/run installs it with `node scripts/wasmtime.mjs install`');
    if (compositionMissing) throw new Error(`CI=true but ${compositionMissing}`);
  }
  if (wantsWasmtime && wasmtimeBinary && !compositionMissing) console.log(`end-to-end suites run on ${wasmtimeHost.name} (${wasmtimeBinary})`);
  for (const reason of skipReasons) console.log(`host suites skipped: ${reason}`);
}

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  reportHosts();
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`the component build failed (exit ${result.status})`);
}
