// What a call threw, as the service error it must be: for tests of errors that are not responses yet.

import { ServiceError } from '../../src/core/errors.js';

/** Runs `run` and returns the ServiceError it throws; anything else, or nothing, fails the test. */
export function failure(run: () => unknown): ServiceError {
  try {
    run();
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('expected a ServiceError');
}
