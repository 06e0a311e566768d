// The only module that reads wasi:cli/environment: the host's environment variables as a plain record.

import { getEnvironment } from 'wasi:cli/environment@0.2.12';
import type { Environment } from '../settings/config.js';

/** The environment the host gives this instance (`spin.toml` variables, `wasmtime --env`, `npm start`). */
export function readEnvironment(): Environment {
  return Object.fromEntries(getEnvironment());
}
