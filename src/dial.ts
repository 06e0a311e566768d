// One outbound connection for a validated target, with the configured policy, limits and fallbacks.

import type { Config, Limits } from './config.js';
import { type Exchange, exchangeWithTarget } from './outbound.js';
import type { Target } from './target.js';
import type { Step, TcpNetwork } from './tcp.js';

/** Runs `steps` on one connection to `target`; `limits` may be the configured ones narrowed by the request. */
export function dial(network: TcpNetwork, config: Config, target: Target, steps: readonly Step[], limits: Limits = config.limits): Exchange {
  return exchangeWithTarget(network, { target, steps, limits, policy: config.policy, fallbackAddresses: fallbacksFor(target, config) });
}

/** Fallback addresses apply to the default target's name only, whichever endpoint names it. */
function fallbacksFor(target: Target, config: Config) {
  if (target.kind !== 'name') return [];
  const defaults = config.defaultTarget;
  return target.host === defaults.host ? defaults.fallbackAddresses : [];
}
