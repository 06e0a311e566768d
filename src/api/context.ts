// The context of one request, in the manner of hono's `c`: what every handler is given — the request and its
// query, the settings, the network, the audit record — and the dialogue it runs on the request's behalf.

import type { ServiceError } from '../core/errors.js';
import { bearerToken } from '../http/auth.js';
import { parseQuery, type Query } from '../http/query.js';
import type { RouteContext } from '../http/router.js';
import { type Dialogue, dial } from '../net/dial.js';
import type { Limits, Step, TcpNetwork } from '../net/dialogue.js';
import type { Target } from '../net/target.js';
import { transcriptOf } from '../net/transcript.js';
import type { Config } from '../settings/config.js';
import { AuditRecord, callerOf } from './audit.js';
import type { AppDeps } from './deps.js';

/** One request's context: built by the app when the request arrives, handed to the router and every handler. */
export class RequestContext implements RouteContext {
  readonly url: URL;
  /** The network the request's dialogues run on (the app's, with names resolving as DNS_MODE says). */
  readonly network: TcpNetwork;
  /** What the request did, for its audit lines. */
  readonly audit = new AuditRecord();
  /** The failure the request was answered with, set by the app's one error handler (the audit line's code). */
  error: ServiceError | undefined;
  readonly #config: () => Config;
  #query: Query | undefined;
  #caller: Promise<string> | undefined;

  constructor(
    readonly request: Request,
    { config, network }: Pick<AppDeps, 'config' | 'network'>,
  ) {
    this.url = new URL(request.url);
    this.#config = config;
    this.network = network;
  }

  get query(): Query {
    return (this.#query ??= parseQuery(this.url.search));
  }

  /** The settings, read when a handler first asks (the probes ask for none, or only what they report on). */
  get settings(): Config {
    return this.#config();
  }

  /**
   * Who made the request, as the audit names them: today a fingerprint of the bearer token presented (or
   * `anonymous`), whether or not it was accepted. Where authentication comes to name callers, it names them here.
   */
  caller(): Promise<string> {
    return (this.#caller ??= callerOf(bearerToken(this.request)));
  }

  /**
   * Runs one dialogue for the request (`dial`, under the settings' policy) and keeps its transcript for the audit,
   * whether it ran or failed. A fault of the service itself (a bug, answered 500 internal) carries none.
   */
  dial(target: Target, steps: readonly Step[], limits: Limits): Dialogue {
    try {
      const dialogue = dial(this.network, this.settings, target, steps, limits);
      this.audit.dialled(dialogue.transcript);
      return dialogue;
    } catch (error) {
      const transcript = transcriptOf(error);
      if (transcript) this.audit.dialled(transcript);
      throw error;
    }
  }
}
