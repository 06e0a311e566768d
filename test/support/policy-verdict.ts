// What a policy says of a host and port, as one string a test compares whole: "allowed", or "denied: " and the
// refusal's message (so every refusal's test checks its message, not only its code).

import { ServiceError } from '../../src/core/errors.js';
import type { Policy } from '../../src/net/policy.js';
import { makeTarget, parseHost } from '../../src/net/target.js';

/** `resolved`: the addresses a name resolved to (by default the host itself, which must then be an address). */
export function verdict(policy: Policy, host: string, port: number, resolved?: string[]): string {
  const addresses = resolved ? resolved.map((r) => parseHost(r).address!) : [parseHost(host).address!];
  try {
    policy.check(makeTarget(host, port), addresses);
    return 'allowed';
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'destination-denied') return `denied: ${error.message}`;
    throw error;
  }
}
