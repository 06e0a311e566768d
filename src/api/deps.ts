// What every endpoint gets from its surroundings: tests pass fakes, the component passes WASI.

import type { TcpNetwork } from '../net/dialogue.js';
import type { DialObserver } from '../net/dial.js';
import type { Config } from '../settings/config.js';

export interface AppDeps {
  /** The settings, read on first use (never at build time: the engine snapshots module initialisation). */
  config: () => Config;
  network: TcpNetwork;
  /** Where audit lines go (stderr in the component); none: no audit log. Writing must never throw. */
  writeAuditLine?: (line: string) => void;
  /** The current request's record, which the endpoints that dial hand to `dial` (set by the app per request). */
  audit?: DialObserver;
}
