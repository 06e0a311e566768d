// A stand-in for Spin's fermyon:spin/variables@2.0.0, for tests of the Spin build: it serves the variables a
// test gives it, answers like Spin for names it does not define, and fails on the names a test asks it to.
// On the local host (jco's `map`) each worker serves startServer's test hook `importsData.spinVariables`; unit tests
// import it in place of the interface (vitest.config.ts) and call serveSpinVariables().

import { workerData } from 'node:worker_threads';

/**
 * @typedef {{ tag: 'invalid-name' | 'undefined' | 'provider' | 'other', val: string }} VariableError
 * @typedef {{ values?: Record<string, string>, failures?: Record<string, VariableError> }} SpinVariables
 */

/** @type {Required<SpinVariables>} */
let served = { values: {}, failures: {} };

/**
 * Replaces the variables served (unit tests, which import this module in place of the interface).
 * @param {SpinVariables} given
 */
export function serveSpinVariables(given) {
  served = { values: given.values ?? {}, failures: given.failures ?? {} };
}

serveSpinVariables(workerData?.importsData?.spinVariables ?? {});

/** Spin's rule for variable names: lowercase letters, digits and single underscores, starting with a letter. */
const VALID_NAME = /^[a-z](?:_?[a-z0-9])*$/;

/**
 * A `result` error for jco: the thrown error's `payload` is the WIT error variant.
 * @param {VariableError} payload
 */
function variableError(payload) {
  return Object.assign(new Error(`${payload.tag}: ${payload.val}`), { payload });
}

/**
 * `get` of the interface: the variable's value, or a thrown `result` error as Spin would answer.
 * @param {string} name
 * @returns {string}
 */
export function get(name) {
  if (!VALID_NAME.test(name)) throw variableError({ tag: 'invalid-name', val: `${JSON.stringify(name)}: not a Spin variable name` });
  const failure = served.failures[name];
  if (failure) throw variableError(failure);
  const value = served.values[name];
  if (value !== undefined) return value;
  throw variableError({ tag: 'undefined', val: `no variable for "ai-agent-sockets".${JSON.stringify(name)}` });
}

/** The interface as jco's `map` imports it (`…/spin-variables.mjs#variables`). */
export const variables = { get };
