// Unit tests run in parallel; end-to-end tests share one build (globalSetup) and start their own hosts.
// The long soak (test/soak, `npm run soak`) has its own config, vitest.soak.config.ts.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      // src/wasi/http.ts runs in unit tests on the local host's in-memory wasi:http (see the file).
      'wasi:http/types@0.2.10': fileURLToPath(new URL('test/support/wasi-http-types.ts', import.meta.url)),
      // src/wasi/spin-variables.ts runs in unit tests on the stand-in the Spin build's end-to-end tests use.
      'fermyon:spin/variables@2.0.0': fileURLToPath(new URL('test/support/spin-variables.mjs', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    maxWorkers: 2,
    // expect.poll returns as soon as its condition holds; the bound only matters on a loaded machine, where a
    // worker loading the component can take seconds (the 1 s default failed there).
    expect: { poll: { timeout: 20_000 } },
  },
});
