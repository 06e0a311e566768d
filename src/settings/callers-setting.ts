// CALLERS: each caller's token digest, allowed targets, narrower limits and the secrets it may use. Its
// problems name the caller and the field, never a value.

import { bytesEqual } from '../core/bytes.js';
import type { JsonObject, JsonValue } from './strict-json.js';
import type { ConfiguredCaller } from '../net/caller.js';
import type { LimitName, Limits } from '../net/dialogue.js';
import type { SecretTable } from '../net/secrets.js';
import { ENTRY_FORM, NUMERIC_SETTINGS } from './setting-table.js';
import { nth, parseEntryList, readEntries, refuseUnknownFields, settingProblem } from './json-setting.js';
import { SECRET_NAME_PATTERN } from './secrets-setting.js';

/** A caller's name: a letter or digit, then letters, digits, `.`, `_` or `-`, at most 64 (it is shown in the audit log). */
export const CALLER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

const CALLER_NAME = new RegExp(CALLER_NAME_PATTERN);
const FIELDS = ['token_sha256', 'allowed_targets', 'limits', 'secrets'] as const;
/** CALLERS nests: the object of callers, a caller, its limits or its secrets. */
const MAX_DEPTH = 3;

/** The field of `limits` for each Limits member: the setting's name in lower case (`request_deadline_ms`). */
const LIMIT_FIELDS = Object.entries(NUMERIC_SETTINGS).map(([member, setting]) => ({ member: member as LimitName, field: setting.name.toLowerCase(), setting }));

function problem(what: string) {
  return settingProblem('CALLERS', what);
}

/**
 * CALLERS as its callers, in the order written. `service` is the service's limits (a caller's may only be
 * lower: one above is `config-invalid`, never clamped, so what runs is what was written); `secrets` is SECRETS,
 * whose names a caller's `secrets` must be.
 */
export function parseCallers(raw: string, service: Limits, secrets: SecretTable): ConfiguredCaller[] {
  const callers = readEntries('CALLERS', raw, MAX_DEPTH).map(([name, entry], index) => {
    if (!CALLER_NAME.test(name)) throw problem(`${nth(index)} caller's name is not a caller name (expected a letter or digit, then letters, digits, ".", "_" or "-", at most 64)`);
    return readCaller(name, entry, service, secrets);
  });
  if (callers.length === 0) throw problem('it names no caller; unset it to use AUTH_TOKEN or no authentication');
  for (const [i, caller] of callers.entries()) {
    const twin = callers.slice(0, i).find((other) => bytesEqual(other.tokenSha256, caller.tokenSha256));
    if (twin) throw problem(`callers "${twin.name}" and "${caller.name}" have the same token_sha256; each caller needs a token of its own`);
  }
  return callers;
}

function readCaller(name: string, entry: JsonObject, service: Limits, secrets: SecretTable): ConfiguredCaller {
  const label = `caller "${name}"`;
  refuseUnknownFields('CALLERS', label, entry, FIELDS);
  const digest = entry.get('token_sha256');
  if (typeof digest !== 'string' || !/^[0-9a-fA-F]{64}$/.test(digest)) {
    throw problem(`${label}: token_sha256 must be the SHA-256 of its token as 64 hex digits (printf %s "$TOKEN" | sha256sum)`);
  }
  const targets = entry.get('allowed_targets');
  if (typeof targets !== 'string') throw problem(`${label}: allowed_targets must be a string of comma-separated entries (${ENTRY_FORM})`);
  const parsed = parseEntryList(targets);
  if ('malformed' in parsed) throw problem(`${label}: entry ${parsed.malformed} of allowed_targets is malformed; expected ${ENTRY_FORM}`);
  if (parsed.entries.length === 0) throw problem(`${label}: allowed_targets is empty; name what the caller may reach`);
  return {
    name,
    tokenSha256: Uint8Array.from(digest.match(/../g)!, (pair) => parseInt(pair, 16)),
    allowedTargets: parsed.entries,
    limits: readLimits(label, entry.get('limits'), service),
    secrets: readSecretNames(label, entry.get('secrets'), secrets),
  };
}

/** The caller's limits: each the service's unless `limits` gives a lower one. */
function readLimits(label: string, limits: JsonValue | undefined, service: Limits): Limits {
  if (limits === undefined) return service;
  if (!(limits instanceof Map)) throw problem(`${label}: limits must be an object with any of ${LIMIT_FIELDS.map((l) => l.field).join(', ')}`);
  refuseUnknownFields('CALLERS', `${label}'s limits`, limits, LIMIT_FIELDS.map((l) => l.field));
  const narrowed = { ...service };
  const setBy: Partial<Record<LimitName, string>> = {};
  for (const { member, field, setting } of LIMIT_FIELDS) {
    const value = limits.get(field);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < setting.min || value > service[member]) {
      throw problem(`${label}: limits.${field} must be a whole number of ${setting.unit} from ${setting.min} to ${service[member]} (the service's ${setting.name}): a caller's limits only narrow the service's`);
    }
    narrowed[member] = value;
    setBy[member] = `${label}'s limits.${field} in CALLERS`;
  }
  return { ...narrowed, setBy };
}

/** The names of the secrets the caller may use: each a secret of SECRETS. */
function readSecretNames(label: string, names: JsonValue | undefined, secrets: SecretTable): ReadonlySet<string> {
  if (names === undefined) return new Set();
  if (!Array.isArray(names)) throw problem(`${label}: secrets must be a list of secret names`);
  const list = names as readonly JsonValue[];
  for (const [index, name] of list.entries()) {
    if (typeof name !== 'string') throw problem(`${label}: ${nth(index)} of its secrets is not a string`);
    const shown = new RegExp(SECRET_NAME_PATTERN).test(name) ? `"${name}"` : 'a name that is not a secret name';
    if (!secrets.has(name)) throw problem(`${label}: ${nth(index)} of its secrets, ${shown}, is not a secret of SECRETS`);
  }
  return new Set(list as string[]);
}
