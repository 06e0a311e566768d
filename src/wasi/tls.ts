// The only module that calls the TLS engine's import (ai-agent-sockets:tls/client, rustls composed into the
// component): the engine as src/net/tls/ takes it.

import { checkRoots, openSession } from 'ai-agent-sockets:tls/client@0.1.0';
import type { TlsEngine } from '../net/tls/engine.js';

/** rustls, composed into this component (tls-engine/). */
export const wasiTls: TlsEngine = { openSession, checkRoots };
