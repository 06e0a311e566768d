// The JSON error body every failure becomes, built in one place for the component (src/http/responses.ts) and the
// local host (host/) alike: plain JavaScript so host/ imports it as is.

/**
 * `{"error": {code, message}}`, with any fields the error carries beside it (such as /ready's `settings`).
 * @param {string} code
 * @param {string} message
 * @param {Record<string, unknown>} [extra]
 */
export function errorBody(code, message, extra = {}) {
  return { error: { code, message }, ...extra };
}
