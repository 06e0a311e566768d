// The configuration variables the component documents: the local host forwards these, and only these.

import { COMPONENT_SETTINGS } from '../src/settings/setting-names.js';

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
