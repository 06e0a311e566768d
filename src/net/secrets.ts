// Secrets a caller names and never sees: whether a dialogue may send them where it is about to connect, and
// the bytes of a step's `send` put together from its parts only at the moment of sending.

import { ServiceError, shown } from '../core/errors.js';
import { concatBytes } from '../core/bytes.js';
import type { Caller } from './caller.js';
import { type IpAddress, isLoopback } from './ip.js';
import { type PolicyEntry, describeDestination, listIncludes } from './policy.js';
import type { Target } from './target.js';

/** One SECRETS entry: its bytes, where they may be sent, and whether only over TLS. */
export interface Secret {
  readonly name: string;
  readonly value: Uint8Array;
  /** Entries in the policy syntax; the address actually connected must be one of them. */
  readonly destinations: readonly PolicyEntry[];
  /** `require_tls`: true, false, or undefined for the default (required unless the address connected is loopback). */
  readonly requireTls: boolean | undefined;
}

/** Every configured secret by name (SECRETS). */
export type SecretTable = ReadonlyMap<string, Secret>;

/** One part of a step's `send`: bytes as given, or the secret of that name. */
export type SendPart = Uint8Array | { readonly secret: string };

/** A secret a dialogue's step names, and whether TLS has started by the time that step sends. */
export interface SecretUse {
  readonly name: string;
  /** The step's number, from 1, as messages name it. */
  readonly step: number;
  readonly tls: boolean;
}

/** The longest a secret's name in a message may be shown (a request may name anything). */
const SHOWN_NAME_CHARS = 64;

/** The secrets of a dialogue's steps, in order, with whether TLS has started by each step (`tlsAt[i]`: step i + 1). */
export function secretUses(steps: readonly (readonly SendPart[])[], tlsAt: readonly boolean[]): SecretUse[] {
  return steps.flatMap((parts, i) => parts.flatMap((part) => (part instanceof Uint8Array ? [] : [{ name: part.secret, step: i + 1, tls: tlsAt[i] ?? false }])));
}

/**
 * Checks, before anything is sent to `address` (which `target` resolved to), that `caller` may send each secret
 * of `uses` there: 400 invalid-request for a name SECRETS does not hold (only a caller that may use all of them
 * is told so; any other is told it may not use the name); 403 secret-denied when the caller may not use it, the
 * address is not one of the secret's destinations, or the step sends it before TLS while it requires TLS.
 * Returns the secrets used, each once, in order of first use: what redaction looks for in the replies.
 */
export function checkSecretUse(caller: Pick<Caller, 'name' | 'secrets'>, table: SecretTable, uses: readonly SecretUse[], target: Target, address: IpAddress): Secret[] {
  const used = new Map<string, Secret>();
  for (const use of uses) {
    const name = shown(use.name, SHOWN_NAME_CHARS);
    const secret = table.get(use.name);
    const permitted = caller.secrets === 'all' || caller.secrets.has(use.name);
    if (!secret && caller.secrets === 'all') throw new ServiceError('invalid-request', `step ${use.step} names the secret ${name}, which SECRETS does not hold`);
    if (!secret || !permitted) throw new ServiceError('secret-denied', `step ${use.step} names the secret ${name}, which caller "${caller.name}" may not use (its secrets in CALLERS)`);
    const where = describeDestination(target, address);
    if (!listIncludes(secret.destinations, target, address)) {
      throw new ServiceError('secret-denied', `the secret ${name} may not be sent to ${where}: it is not one of the secret's destinations (SECRETS); nothing was sent`);
    }
    if (!use.tls && (secret.requireTls ?? !isLoopback(address))) {
      const why = secret.requireTls === undefined ? 'TLS (the default for an address that is not loopback)' : 'TLS (its require_tls)';
      throw new ServiceError('secret-denied', `the secret ${name} requires ${why}, and step ${use.step} would send it to ${where} before TLS has started; nothing was sent`);
    }
    used.set(use.name, secret);
  }
  return [...used.values()];
}

/** How many bytes `parts` make once put together (what MAX_MESSAGE_BYTES counts); throws 400 for an unknown secret. */
export function sendLength(parts: readonly SendPart[], table: SecretTable): number {
  return parts.reduce((sum, part) => sum + (part instanceof Uint8Array ? part : secretValue(part.secret, table)).length, 0);
}

/**
 * The bytes of a step's `send`, its parts put together with each secret's value. Call it only at the moment of
 * sending, after checkSecretUse: the result holds secret bytes, and must go to the socket and nowhere else.
 */
export function assembleSend(parts: readonly SendPart[], table: SecretTable): Uint8Array {
  const chunks = parts.map((part) => (part instanceof Uint8Array ? part : secretValue(part.secret, table)));
  return concatBytes(chunks, chunks.reduce((sum, chunk) => sum + chunk.length, 0));
}

function secretValue(name: string, table: SecretTable): Uint8Array {
  const secret = table.get(name);
  if (!secret) throw new ServiceError('invalid-request', `a step names the secret ${shown(name, SHOWN_NAME_CHARS)}, which SECRETS does not hold`);
  return secret.value;
}
