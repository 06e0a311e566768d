// What both starts (`npm start` over HTTP, `--stdio`) do before serving: read the host's own settings, ending the
// start with a one-line reason on stderr when one is malformed.

import { parseWholeNumber } from '../src/settings/setting-table.js';
import { POOL_SETTINGS } from './pool.mjs';

/**
 * Ends the start with `message` on one line (stderr) and exit code `code`.
 * @param {string} message
 * @param {number} code
 * @returns {never}
 */
export function refuse(message, code) {
  console.error(message);
  process.exit(code);
}

/**
 * A whole-number setting from the host's environment; exits with a one-line message when it is malformed.
 * @param {import('./pool.mjs').Setting} setting
 */
export function readSetting(setting) {
  const raw = process.env[setting.name];
  if (raw === undefined || raw === '') return setting.defaultValue;
  const value = parseWholeNumber(raw, setting.min, setting.max);
  if (value === undefined) {
    refuse(`${setting.name}=${JSON.stringify(raw)} is invalid: expected a whole number from ${setting.min} to ${setting.max}`, 2);
  }
  return value;
}

/**
 * The value of `read()`, or exit 2 with the one-line reason it throws.
 * @template T
 * @param {() => T} read
 * @returns {T}
 */
export function orRefuse(read) {
  try {
    return read();
  } catch (error) {
    return refuse(/** @type {Error} */ (error).message, 2);
  }
}

/**
 * The pool's size and queue, from POOL_SIZE, QUEUE_LIMIT and QUEUE_WAIT_MS.
 * @param {{ poolSize?: number }} [defaults] a start's own default pool size, where it differs from POOL_SETTINGS'
 */
export function readPoolSettings(defaults = {}) {
  return {
    poolSize: readSetting({ ...POOL_SETTINGS.poolSize, defaultValue: defaults.poolSize ?? POOL_SETTINGS.poolSize.defaultValue }),
    queueLimit: readSetting(POOL_SETTINGS.queueLimit),
    queueWaitMs: readSetting(POOL_SETTINGS.queueWaitMs),
  };
}

/**
 * Ends the start when no worker could load the component.
 * @param {unknown} error why no worker came up
 * @returns {never}
 */
export function noWorker(error) {
  console.error('no worker could load the component:', /** @type {AggregateError} */ (error).errors?.[0] ?? error);
  process.exit(1);
}
