// Builds the component once per test run when its inputs changed, so every end-to-end test drives current code.
// The global setup of the end-to-end project only (vitest.config.ts): a run of unit tests alone builds nothing.
// The build runs in its own Node process, exactly as `npm run build` does.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`the component build failed (exit ${result.status})`);
}
