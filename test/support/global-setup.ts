// Builds the component once per test run when its inputs changed, so every end-to-end test drives current code.
// The build runs in its own Node process, exactly as `npm run build` does. Says once why host suites are
// skipped; in CI (CI=true) a missing wasmtime fails the run instead, since CI installs it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findWasmtime, wasmtimeVersion } from '../../scripts/wasmtime.mjs';

const wanted = (host: string) => !process.env.TEST_HOSTS || process.env.TEST_HOSTS.split(',').some((name) => name.trim() === host);

function checkWasmtime(): void {
  if (!wanted('wasmtime')) return;
  const binary = findWasmtime();
  if (binary) {
    console.log(`end-to-end suites run on wasmtime ${wasmtimeVersion(binary)} (${binary})`);
  } else if (process.env.CI === 'true') {
    throw new Error('CI=true but no wasmtime was found: .ci/run installs it with `node scripts/wasmtime.mjs install`');
  } else {
    console.log('wasmtime suites skipped: wasmtime is not installed. `node scripts/wasmtime.mjs install` installs the tested release.');
  }
}

/** Spin has no registry package, so CI cannot install it; its suites run where `spin` is on PATH. */
function checkSpin(): void {
  if (wanted('spin') && spawnSync('sh', ['-c', 'command -v spin'], { stdio: 'ignore' }).status !== 0) {
    console.log('spin suites skipped: spin is not on PATH (it has no registry package; see docs/HOSTS.md).');
  }
}

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  checkWasmtime();
  checkSpin();
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`the component build failed (exit ${result.status})`);
}
