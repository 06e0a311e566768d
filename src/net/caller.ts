// Who is calling: the reach, limits and secrets one bearer token grants (a CALLERS entry, AUTH_TOKEN's one
// caller, or the anonymous caller of a service without authentication).

import type { Limits } from './dialogue.js';
import type { PolicyEntry } from './policy.js';

/** A caller once authenticated: what it may reach, within which limits, with which secrets. */
export interface Caller {
  /** The name the operator gave it in CALLERS; `default` for AUTH_TOKEN's one caller; `anonymous` without authentication. */
  readonly name: string;
  /** Its own allow list, which only narrows the service's policy; undefined: the service's whole reach. */
  readonly allowedTargets: readonly PolicyEntry[] | undefined;
  /** Its limits: the service's, or narrower ones its CALLERS entry gives. */
  readonly limits: Limits;
  /** The secrets it may use by name: a list of names, or `all` of SECRETS (AUTH_TOKEN's one caller). */
  readonly secrets: ReadonlySet<string> | 'all';
}

/** A CALLERS entry: a caller and the SHA-256 digest of its bearer token (the setting never holds the token). */
export interface ConfiguredCaller extends Caller {
  readonly tokenSha256: Uint8Array;
}

/**
 * How requests are authenticated, as src/http/auth.ts's `authenticate` takes it: not at all (one anonymous
 * caller), by AUTH_TOKEN (one caller), or by the token digests of CALLERS.
 */
export type Callers =
  | { readonly kind: 'open'; readonly caller: Caller }
  | { readonly kind: 'token'; readonly token: string; readonly caller: Caller }
  | { readonly kind: 'digests'; readonly callers: readonly ConfiguredCaller[] };

/** The name of AUTH_TOKEN's one caller. */
export const TOKEN_CALLER_NAME = 'default';
/** The name of the caller of a service without authentication. */
export const ANONYMOUS_CALLER_NAME = 'anonymous';
