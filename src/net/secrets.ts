// Secrets a caller names and never sees: which ones a caller may use, whether a dialogue may send them to the
// addresses it is about to connect to, and a step's message put together from its parts only when it is sent.

import { ServiceError, shown } from '../core/errors.js';
import type { Caller } from './caller.js';
import { type IpAddress, isLoopback } from './ip.js';
import { type PolicyEntry, describeDestination, listIncludes } from './policy.js';
import type { Target } from './target.js';

/** One SECRETS entry: its bytes, where they may be sent, and whether only over TLS. */
export interface Secret {
  readonly name: string;
  readonly value: Uint8Array;
  /** Entries in the policy syntax; the address connected to must be one of them. */
  readonly destinations: readonly PolicyEntry[];
  /** `require_tls`: true, false, or undefined for the default (required unless the address connected is loopback). */
  readonly requireTls: boolean | undefined;
}

/**
 * Whether a part is bytes rather than a secret. Never `instanceof Uint8Array`: bytes may come from another
 * realm (StarlingMonkey hands a request body's chunks over in its own), where that test is false.
 */
export const isBytes = (part: Uint8Array | Secret): part is Uint8Array => ArrayBuffer.isView(part);

/** Every configured secret by name (SECRETS). */
export type SecretTable = ReadonlyMap<string, Secret>;

/** The longest a secret's name in a message may be shown (a request may name anything). */
const SHOWN_NAME_CHARS = 64;

/** Whether `caller` may use the secret `name`: one its CALLERS entry lists, or any (AUTH_TOKEN's caller). */
export const mayUse = (caller: Pick<Caller, 'secrets'>, name: string): boolean => caller.secrets === 'all' || caller.secrets.has(name);

/**
 * The secret `name` for `caller`, which a request's `where` (e.g. `steps/2/send/1`) names: 400 invalid-request for
 * a name SECRETS does not hold, told only to a caller that may use every secret; 403 secret-denied for one the
 * caller may not use, whether or not it exists (a caller learns no other caller's names).
 */
export function secretFor(caller: Pick<Caller, 'name' | 'secrets'>, table: SecretTable, name: string, where: string): Secret {
  const secret = table.get(name);
  const permitted = mayUse(caller, name);
  const named = shown(name, SHOWN_NAME_CHARS);
  if (!secret && caller.secrets === 'all') throw new ServiceError('invalid-request', `${where} names the secret ${named}, which SECRETS does not hold`);
  if (!secret || !permitted) throw new ServiceError('secret-denied', `${where} names the secret ${named}, which caller "${caller.name}" may not use (its secrets in CALLERS)`);
  return secret;
}

/**
 * A step's message that holds secrets: bytes and secrets in order, put together only by `assemble`, at the moment
 * of sending. Anything else sees its length and the secrets' names, never the bytes.
 */
export class SecretMessage {
  readonly length: number;
  readonly #parts: readonly (Uint8Array | Secret)[];

  constructor(parts: readonly (Uint8Array | Secret)[]) {
    this.#parts = parts;
    this.length = parts.reduce((sum, part) => sum + (isBytes(part) ? part : part.value).length, 0);
  }

  /** The secrets it holds, each once, in order. */
  get secrets(): Secret[] {
    return [...new Set(this.#parts.filter((part): part is Secret => !isBytes(part)))];
  }

  /** What a log or a debugger may show of it: its length and the secrets' names. */
  toJSON(): { length: number; secrets: string[] } {
    return { length: this.length, secrets: this.secrets.map((secret) => secret.name) };
  }

  toString(): string {
    return `[a message of ${this.length} bytes holding the secrets ${this.secrets.map((secret) => secret.name).join(', ')}]`;
  }

  /**
   * The bytes to send, in a new array of their own (never a secret's stored value, which the sender wipes once
   * the bytes are written). Call it only to send them.
   */
  assemble(): Uint8Array {
    const bytes = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.#parts) {
      const chunk = isBytes(part) ? part : part.value;
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return bytes;
  }
}

/** What a dialogue's steps send, as far as secrets are concerned: a message, and whether TLS has started by its step. */
interface StepSend {
  readonly send: Uint8Array | SecretMessage;
  readonly tls?: unknown;
}

/** The secrets `steps` send, each once, in order of first use. */
export function secretsOf(steps: readonly StepSend[]): Secret[] {
  return [...new Set(steps.flatMap((step) => (step.send instanceof SecretMessage ? step.send.secrets : [])))];
}

/**
 * Checks, before any connection is tried, that every secret the steps send may go to every address `target`
 * resolved to (as the destination policy checks them all: a connection goes only to a checked address): 403
 * secret-denied when an address is not one of the secret's destinations, or a step sends it before TLS has
 * started while it requires TLS (by default, to every address but loopback). Nothing has been sent when it throws.
 */
export function checkSecretDestinations(steps: readonly StepSend[], target: Target, addresses: readonly IpAddress[]): void {
  let tls = false;
  for (const [i, step] of steps.entries()) {
    tls ||= step.tls !== undefined;
    if (!(step.send instanceof SecretMessage)) continue;
    for (const secret of step.send.secrets) {
      for (const address of addresses) checkOne(secret, { step: i + 1, tls }, target, address);
    }
  }
}

function checkOne(secret: Secret, use: { step: number; tls: boolean }, target: Target, address: IpAddress): void {
  const name = shown(secret.name, SHOWN_NAME_CHARS);
  const where = describeDestination(target, address);
  if (!listIncludes(secret.destinations, target, address)) {
    throw new ServiceError('secret-denied', `the secret ${name} may not be sent to ${where}: it is not one of the secret's destinations (SECRETS); nothing was sent`);
  }
  if (!use.tls && (secret.requireTls ?? !isLoopback(address))) {
    const why = secret.requireTls === undefined ? 'TLS (the default for an address that is not loopback)' : 'TLS (its require_tls)';
    throw new ServiceError('secret-denied', `the secret ${name} requires ${why}, and step ${use.step} would send it to ${where} before TLS has started; nothing was sent`);
  }
}
