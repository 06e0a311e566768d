// What the app gets from its surroundings, for as long as it runs: tests pass fakes, the component passes WASI.
// What belongs to one request is in its context (context.ts).

import type { TcpNetwork } from '../net/dialogue.js';
import type { UdpNetwork } from '../net/datagrams.js';
import type { Config } from '../settings/config.js';

export interface AppDeps {
  /** The settings, read on first use (never at build time: the engine snapshots module initialisation). */
  config: () => Config;
  network: TcpNetwork;
  /** Outbound UDP; absent (some tests), /udp/* answer 502 network-unsupported. */
  udp?: UdpNetwork;
  /** Where audit lines go (stderr in the component); none: no audit log. Writing must never throw. */
  writeAuditLine?: (line: string) => void;
}
