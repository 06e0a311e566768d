// What an imported WASI function threw: the one reader of the `payload` that carries a WIT error value.

/**
 * Its `result` error arrives as an error whose `payload` is the WIT error value (`'would-block'`,
 * `{ tag: 'closed' }`, a Spin variables error). undefined for any other throw.
 */
export function wasiPayload(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'payload' in error ? error.payload : undefined;
}
