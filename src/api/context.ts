// The context of one request, in the manner of hono's `c`: what every handler is given — the request and its
// query, the settings, the network, the audit record — and the dialogue it runs on the request's behalf.

import { ServiceError } from '../core/errors.js';
import { authenticate, bearerToken } from '../http/auth.js';
import { parseQuery, type Query } from '../http/query.js';
import type { RouteContext } from '../http/router.js';
import type { Caller } from '../net/caller.js';
import { type Dialogue, dial } from '../net/dial.js';
import { type DatagramDialogue, dialDatagrams } from '../net/dial-datagrams.js';
import type { DatagramStep, UdpNetwork } from '../net/datagrams.js';
import { type DestinationCheck, narrowPolicy } from '../net/policy.js';
import type { Limits, Step, TcpNetwork } from '../net/dialogue.js';
import type { Target } from '../net/target.js';
import { type Secret, mayUse, secretFor } from '../net/secrets.js';
import { type Transcript, transcriptOf } from '../net/transcript.js';
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
  readonly #udp: UdpNetwork | undefined;
  #query: Query | undefined;
  #caller: Promise<string> | undefined;
  /** Who the request authenticated as (`authenticate`); until then, no one: nothing is dialled before it. */
  #authenticated: { caller: Caller; named: boolean } | undefined;

  constructor(
    readonly request: Request,
    { config, network, udp }: Pick<AppDeps, 'config' | 'network' | 'udp'>,
  ) {
    this.url = new URL(request.url);
    this.#config = config;
    this.network = network;
    this.#udp = udp;
  }

  get query(): Query {
    return (this.#query ??= parseQuery(this.url.search));
  }

  /** The settings, read when a handler first asks (the probes ask for none, or only what they report on). */
  get settings(): Config {
    return this.#config();
  }

  /**
   * Authenticates the request by the settings' callers (CALLERS, AUTH_TOKEN's one caller, or none): throws the
   * 401 that refuses it, or settles who it is for every dialogue and limit that follows.
   */
  async authenticate(): Promise<void> {
    const callers = this.settings.callers;
    this.#authenticated = { caller: await authenticate(this.request, callers), named: callers.kind === 'digests' };
  }

  /** The authenticated caller; a request to a path that needs none (the probes) has the anonymous caller's reach: nothing is dialled there. */
  get #who(): Caller {
    if (!this.#authenticated) throw new Error('a dialogue or limit was asked for before the request was authenticated');
    return this.#authenticated.caller;
  }

  /** The request's limits: the settings', or the narrower ones of its caller's CALLERS entry. */
  get limits(): Config['limits'] {
    return this.#who.limits;
  }

  /**
   * Who made the request, as the audit names them: a caller of CALLERS by its configured name; otherwise a
   * fingerprint of the bearer token presented (or `anonymous`), whether or not it was accepted.
   */
  caller(): Promise<string> {
    if (this.#authenticated?.named) return Promise.resolve(this.#authenticated.caller.name);
    return (this.#caller ??= callerOf(bearerToken(this.request)));
  }

  /** The secret `name`, which the request names at `where`, if its caller may use it (`secretFor`: 400 or 403 otherwise). */
  secret(name: string, where: string): Secret {
    return secretFor(this.#who, this.settings.secrets, name, where);
  }

  /** The secrets the request's caller may use, in the order SECRETS gives them: what the MCP tool tells it of. */
  usableSecrets(): Secret[] {
    return [...this.settings.secrets.values()].filter((secret) => mayUse(this.#who, secret.name));
  }

  /** The destination policy for this request: the service's, narrowed to its caller's allowed targets. */
  get #policy(): DestinationCheck {
    const { name, allowedTargets } = this.#who;
    return narrowPolicy(this.settings.policy, name, allowedTargets);
  }

  /**
   * Runs one dialogue for the request (`dial`, under the settings' policy) and keeps its transcript for the audit,
   * whether it ran or failed. A fault of the service itself (a bug, answered 500 internal) carries none.
   */
  dial(target: Target, steps: readonly Step[], limits: Limits): Dialogue {
    return this.#recorded(() => dial(this.network, this.#outbound, target, steps, limits));
  }

  /** Runs one dialogue of datagrams for the request (`dialDatagrams`, under the same policy) and keeps its transcript. */
  dialDatagrams(target: Target, steps: readonly DatagramStep[], limits: Limits): DatagramDialogue {
    const udp = this.#udp;
    if (!udp) throw new ServiceError('network-unsupported', 'this host gives the component no UDP');
    return this.#recorded(() => dialDatagrams(this.network, udp, this.#outbound, target, steps, limits));
  }

  /** The policy and the default target a dialogue runs under; the default target is read only for a name that may be it (a malformed one fails only the requests that use it). */
  get #outbound() {
    const settings = this.settings;
    return { policy: this.#policy, get defaultTarget() { return settings.defaultTarget; } };
  }

  /** Runs a dialogue and keeps its transcript for the audit, whether it ran or failed. */
  #recorded<D extends { transcript: Transcript }>(run: () => D): D {
    try {
      const dialogue = run();
      this.audit.dialled(dialogue.transcript);
      return dialogue;
    } catch (error) {
      const transcript = transcriptOf(error);
      if (transcript) this.audit.dialled(transcript);
      throw error;
    }
  }
}
