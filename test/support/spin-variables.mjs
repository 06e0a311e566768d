// A stand-in for Spin's fermyon:spin/variables@2.0.0 on the local host, for tests of the Spin build: it serves
// the variables a test gives the host (startServer's `importsData.spinVariables`, which reaches every worker
// as workerData), answers like Spin for names it does not define, and fails on the names a test asks it to.

import { workerData } from 'node:worker_threads';

/**
 * @typedef {{ tag: 'invalid-name' | 'undefined' | 'provider' | 'other', val: string }} VariableError
 * @typedef {{ values?: Record<string, string>, failures?: Record<string, VariableError> }} SpinVariables
 */

/** @type {SpinVariables} */
const given = workerData?.importsData?.spinVariables ?? {};
const values = given.values ?? {};
const failures = given.failures ?? {};

/** Spin's rule for variable names: lowercase letters, digits and single underscores, starting with a letter. */
const VALID_NAME = /^[a-z](?:_?[a-z0-9])*$/;

/**
 * A `result` error for jco: the thrown error's `payload` is the WIT error variant.
 * @param {VariableError} payload
 */
function variableError(payload) {
  return Object.assign(new Error(`${payload.tag}: ${payload.val}`), { payload });
}

export const variables = {
  /** @param {string} name */
  get(name) {
    if (!VALID_NAME.test(name)) throw variableError({ tag: 'invalid-name', val: `${JSON.stringify(name)}: not a Spin variable name` });
    if (Object.hasOwn(failures, name)) throw variableError(/** @type {VariableError} */ (failures[name]));
    if (Object.hasOwn(values, name)) return values[name];
    throw variableError({ tag: 'undefined', val: `no variable for "ai-agent-sockets".${JSON.stringify(name)}` });
  },
};
