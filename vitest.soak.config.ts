// `npm run soak`: the long runs kept out of `npm test` (test/soak/*.soak.ts), with the same build and limits.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({ ...base, test: { ...base.test, include: ['test/soak/**/*.soak.ts'], testTimeout: 600_000 } });
