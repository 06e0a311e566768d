// Builds the component once per test run when its inputs changed, so every end-to-end test drives current code.
// The build runs in its own Node process, exactly as `npm run build` does. Says once why host suites are
// skipped; in CI (CI=true) a missing wasmtime fails the run instead, since CI installs it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isSelected, skipReasons, wasmtimeBinary, wasmtimeHost } from './hosts.js';

function reportHosts(): void {
  const wantsWasmtime = isSelected(wasmtimeHost);
  if (wantsWasmtime && wasmtimeBinary) console.log(`end-to-end suites run on ${wasmtimeHost.name} (${wasmtimeBinary})`);
  else if (process.env.CI === 'true' && wantsWasmtime) {
    throw new Error('CI=true but no wasmtime was found: .ci/run installs it with `node scripts/wasmtime.mjs install`');
  }
  for (const reason of skipReasons) console.log(`host suites skipped: ${reason}`);
}

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  reportHosts();
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`the component build failed (exit ${result.status})`);
}
