// The configuration variables the component documents: the local host forwards these, and only these.

/** Names read by src/config.ts (and later policy/auth settings); checked by test/unit/settings.test.ts. */
export const COMPONENT_SETTINGS = [
  'DEFAULT_TARGET_HOST',
  'DEFAULT_TARGET_PORT',
  'DEFAULT_TARGET_FALLBACK_IPS',
  'CONNECT_TIMEOUT_MS',
  'REQUEST_DEADLINE_MS',
  'REPLY_IDLE_MS',
  'MAX_REPLY_BYTES',
  'MAX_MESSAGE_BYTES',
  'ALLOWED_TARGETS',
  'DENIED_TARGETS',
  'AUTH_TOKEN',
  'DNS_SERVERS',
  'DNS_MODE',
];

/**
 * The subset of `env` the component may see: nothing else of the host's environment leaks in.
 * @param {Record<string, string | undefined>} env
 * @returns {Record<string, string>}
 */
export function componentEnvironment(env) {
  return Object.fromEntries(COMPONENT_SETTINGS.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])));
}

/**
 * What `npm start` allows when ALLOWED_TARGETS is not set in its environment: loopback (so the README's
 * quick start works) and the public internet. Private, link-local and metadata ranges stay denied, because
 * `0.0.0.0/0` is less specific than the built-in deny entries.
 */
export const LOCAL_PROFILE_ALLOWED_TARGETS = '127.0.0.0/8:*,[::1]:*,0.0.0.0/0:*,[::/0]:*';
