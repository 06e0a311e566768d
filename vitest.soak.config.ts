// `npm run soak`: the long runs kept out of `npm test` (test/soak/*.soak.ts), with the same build, setup and limits.
import { defineConfig } from 'vitest/config';
import { BUILD_SETUP, shared } from './vitest.config.js';

export default defineConfig({
  ...shared,
  test: {
    ...shared.test,
    include: ['test/soak/**/*.soak.ts'],
    globalSetup: ['test/support/global-setup.ts', BUILD_SETUP],
    maxWorkers: 2,
    testTimeout: 600_000,
  },
});
