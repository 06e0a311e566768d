// A checkout whose path has a space, `#` and `%` (characters a file URL escapes): `npm run build` still runs
// as the main module, and the local host still loads its transpiled component from such a path.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type LocalHost } from '../../host/server.mjs';
import { APP_COMPONENT_PATH, findWac } from '../../scripts/build.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Every character that a file URL escapes and a hand-made `file://${path}` gets wrong. */
const AWKWARD_NAME = 'check out #1 100%';

describe(`a checkout in a directory named "${AWKWARD_NAME}"`, () => {
  let scratch = '';
  let checkout = '';
  const servers: LocalHost[] = [];

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'checkout-path-'));
    checkout = join(scratch, AWKWARD_NAME);
    mkdirSync(join(checkout, 'scripts'), { recursive: true });
    mkdirSync(join(checkout, 'dist'));
    // The build script and its inputs are copied (a symlinked main module would run from its real path);
    // big inputs and the dependencies are linked. The components are linked with their stamps, so the
    // build finds them current and builds nothing.
    for (const file of ['package.json', 'webpack.config.js', 'scripts/build.mjs', 'scripts/methodless-resources.mjs', 'scripts/tls-engine.mjs']) copyFileSync(join(root, file), join(checkout, file));
    for (const path of ['src', 'wit', 'node_modules', 'package-lock.json', 'tls-engine']) symlinkSync(join(root, path), join(checkout, path));
    for (const file of readdirSync(join(root, 'dist'))) {
      if (file.endsWith('.wasm')) symlinkSync(join(root, 'dist', file), join(checkout, 'dist', file));
      if (file.endsWith('.inputs')) copyFileSync(join(root, 'dist', file), join(checkout, 'dist', file));
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close(0)));
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('`node scripts/build.mjs --if-stale` runs the build there (and says its components are current)', () => {
    const run = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: checkout, encoding: 'utf8' });
    expect(run.status).toBe(0);
    // The composed components where wac is installed; the apps alone where it is not.
    const kind = findWac() ? '' : '.app';
    expect(run.stderr).toContain(`dist/ai-agent-sockets${kind}.wasm is current`);
    expect(run.stderr).toContain(`dist/ai-agent-sockets-spin${kind}.wasm is current`);
  });

  test('the local host serves a component transpiled into a cache there', async () => {
    const server = await startServer({ componentPath: APP_COMPONENT_PATH, poolSize: 1 }, { transpileCacheDir: join(checkout, '.cache', 'transpiled') });
    servers.push(server);
    await server.ready;
    expect(await (await fetch(`${server.url}/health`)).text()).toBe('ok');
  });
});
