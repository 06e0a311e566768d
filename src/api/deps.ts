// What every endpoint gets from its surroundings: tests pass fakes, the component passes WASI.

import type { TcpNetwork } from '../net/network.js';
import type { Config } from '../settings/config.js';

export interface AppDeps {
  /** The settings, read on first use (never at build time: the engine snapshots module initialisation). */
  config: () => Config;
  network: TcpNetwork;
}
