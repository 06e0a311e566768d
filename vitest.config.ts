// Two projects: unit tests (every test file outside test/e2e) need no build and run in parallel; end-to-end tests (test/e2e)
// share one build of the component (test/support/build-component.ts, run only when an end-to-end file is queued)
// and start their own hosts. The run's own setup (test/support/global-setup.ts: TMPDIR, skipped suites) belongs
// to the root and runs for either kind. The long soak (test/soak, `npm run soak`) has its own config,
// vitest.soak.config.ts.
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/** What both projects share: the aliases for the WASI imports the unit tests stand in for, and the time limits. */
export const shared = {
  resolve: {
    alias: {
      // src/wasi/http.ts runs in unit tests on the local host's in-memory wasi:http (see the file).
      'wasi:http/types@0.2.10': fileURLToPath(new URL('test/support/wasi-http-types.ts', import.meta.url)),
      // src/wasi/spin-variables.ts runs in unit tests on the stand-in the Spin build's end-to-end tests use.
      'fermyon:spin/variables@2.0.0': fileURLToPath(new URL('test/support/spin-variables.mjs', import.meta.url)),
    },
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // expect.poll returns as soon as its condition holds; the bound only matters on a loaded machine, where a
    // worker loading the component can take seconds (the 1 s default failed there).
    expect: { poll: { timeout: 20_000 } },
  },
};

/** The setup that builds the component when its inputs changed; end-to-end runs (and the soak) use it. */
export const BUILD_SETUP = 'test/support/build-component.ts';

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    maxWorkers: 2,
    projects: [
      { ...shared, test: { ...shared.test, name: 'unit', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/e2e/**'] } },
      { ...shared, test: { ...shared.test, name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: [BUILD_SETUP] } },
    ],
  },
});
