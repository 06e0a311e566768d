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
];

/** The subset of `env` the component may see: nothing else of the host's environment leaks in. */
export function componentEnvironment(env) {
  return Object.fromEntries(COMPONENT_SETTINGS.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]));
}
