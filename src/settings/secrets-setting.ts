// SECRETS: each secret's value, the destinations it may be sent to and whether only over TLS. Its problems name
// the secret and the field, never a value.

import type { JsonObject, JsonValue } from './strict-json.js';
import type { Secret, SecretTable } from '../net/secrets.js';
import { ENTRY_FORM } from './setting-table.js';
import { nth, parseEntryList, readEntries, refuseUnknownFields, settingProblem } from './json-setting.js';

/**
 * The shortest a secret may be. Redaction replaces every occurrence of a secret's bytes in a reply: a short
 * one would occur in ordinary replies by chance (a 1-byte one everywhere), and would be easier to guess.
 */
export const MIN_SECRET_BYTES = 8;
/** The longest a secret may be (a long API token fits; redaction's work grows with it). */
export const MAX_SECRET_BYTES = 8_192;
/** A secret's name: a letter, then letters, digits and `_` (what `{"secret": "NAME"}` and the marker show). */
export const SECRET_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,63}$';

const SECRET_NAME = new RegExp(SECRET_NAME_PATTERN);
const FIELDS = ['value', 'value_base64', 'destinations', 'require_tls'] as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** A UTF-16 surrogate without its pair: TextEncoder would send U+FFFD instead, not the secret written. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** SECRETS nests: the object of secrets, a secret. */
const MAX_DEPTH = 2;

const encoder = new TextEncoder();

/** SECRETS as a table of secrets by name (empty when `raw` is empty); throws `config-invalid` naming the secret and field. */
export function parseSecrets(raw: string): SecretTable {
  const table = new Map<string, Secret>();
  if (raw.trim() === '') return table;
  for (const [index, [name, entry]] of readEntries('SECRETS', raw, MAX_DEPTH).entries()) {
    if (!SECRET_NAME.test(name)) throw problem(`${nth(index)} secret's name is not a secret name (expected a letter, then letters, digits or _, at most 64)`);
    table.set(name, readSecret(name, entry));
  }
  return table;
}

function problem(what: string) {
  return settingProblem('SECRETS', what);
}

function readSecret(name: string, entry: JsonObject): Secret {
  const label = `secret "${name}"`;
  refuseUnknownFields('SECRETS', label, entry, FIELDS);
  const value = readValue(label, entry.get('value'), entry.get('value_base64'));
  const destinations = entry.get('destinations');
  if (typeof destinations !== 'string') throw problem(`${label}: destinations must be a string of comma-separated entries (${ENTRY_FORM})`);
  const parsed = parseEntryList(destinations);
  if ('malformed' in parsed) throw problem(`${label}: entry ${parsed.malformed} of destinations is malformed; expected ${ENTRY_FORM}`);
  if (parsed.entries.length === 0) throw problem(`${label}: destinations is empty; name where the secret may be sent`);
  const requireTls = entry.get('require_tls');
  if (requireTls !== undefined && typeof requireTls !== 'boolean') throw problem(`${label}: require_tls must be true or false (unset: TLS required except to loopback)`);
  return { name, value, destinations: parsed.entries, requireTls };
}

/** The secret's bytes, from exactly one of `value` (text, sent as UTF-8) and `value_base64` (bytes). */
function readValue(label: string, text: JsonValue | undefined, base64: JsonValue | undefined): Uint8Array {
  if ((text === undefined) === (base64 === undefined)) throw problem(`${label}: give exactly one of value (text) and value_base64 (bytes)`);
  let bytes: Uint8Array;
  if (text !== undefined) {
    if (typeof text !== 'string' || LONE_SURROGATE.test(text)) throw problem(`${label}: value must be a string of Unicode text`);
    bytes = encoder.encode(text);
  } else {
    if (typeof base64 !== 'string' || !BASE64.test(base64)) throw problem(`${label}: value_base64 must be standard base64 with padding`);
    bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }
  if (bytes.length < MIN_SECRET_BYTES || bytes.length > MAX_SECRET_BYTES) {
    throw problem(`${label}: its value must be ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes long (a shorter one would be redacted from ordinary replies)`);
  }
  return bytes;
}
