// What CALLERS and SECRETS share: a JSON object of named entries read strictly (settings/strict-json.ts), and
// problems that name the setting, the entry and the field, never a value (both settings hold secrets).

import { SettingError } from '../core/errors.js';
import { type JsonObject, type JsonValue, JsonShapeError, isJsonObject, parseStrictJson } from './strict-json.js';
import { parseEntry, type PolicyEntry } from '../net/policy.js';
import { commaList } from './setting-table.js';

/** The longest CALLERS or SECRETS may be: far above any real list, low enough to read on every request. */
export const MAX_JSON_SETTING_CHARS = 262_144;
/** The most entries either may hold. */
export const MAX_JSON_SETTING_ENTRIES = 1_000;

/** A problem of `setting`, said once: /ready lists `what` (as the expected form), a request's 503 says it too. */
export function settingProblem(setting: string, what: string): SettingError {
  return new SettingError(setting, what, `setting ${setting} is invalid: ${what}`);
}

/** `raw` as the object of named entries `setting` holds, each entry an object; throws a SettingError otherwise. */
export function readEntries(setting: string, raw: string, maxDepth: number): [string, JsonObject][] {
  let parsed: JsonValue;
  try {
    parsed = parseStrictJson(raw, { maxDepth, maxLength: MAX_JSON_SETTING_CHARS });
  } catch (error) {
    if (error instanceof JsonShapeError) throw settingProblem(setting, error.message);
    throw error;
  }
  if (!isJsonObject(parsed)) throw settingProblem(setting, 'it is not a JSON object of named entries');
  if (parsed.size > MAX_JSON_SETTING_ENTRIES) throw settingProblem(setting, `it has ${parsed.size} entries; at most ${MAX_JSON_SETTING_ENTRIES}`);
  return [...parsed].map(([name, entry], index) => {
    if (!isJsonObject(entry)) throw settingProblem(setting, `${nth(index)} entry is not a JSON object`);
    return [name, entry];
  });
}

/** `1st`, `2nd`, … : how an entry whose name cannot be shown is pointed at. */
export function nth(index: number): string {
  const n = index + 1;
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `the ${n}${suffix}`;
}

/** A key as a message may show it: a field-shaped one by name, anything else (it may be a pasted secret) not. */
export function shownKey(key: string): string {
  return /^[a-z_]{1,32}$/.test(key) ? `"${key}"` : 'a key that is not a field name';
}

/** Throws for a member of `entry` outside `fields`: a misspelt field would otherwise be ignored silently. */
export function refuseUnknownFields(setting: string, label: string, entry: JsonObject, fields: readonly string[]): void {
  for (const key of entry.keys()) {
    if (!fields.includes(key)) throw settingProblem(setting, `${label} has ${shownKey(key)}; its fields are ${fields.join(', ')}`);
  }
}

/** A comma-separated list in the policy syntax, as one string: its entries, or the number of the first malformed one. */
export function parseEntryList(text: string): { entries: PolicyEntry[] } | { malformed: number } {
  const entries: PolicyEntry[] = [];
  for (const [index, item] of commaList(text).entries()) {
    const entry = parseEntry(item);
    if (!entry) return { malformed: index + 1 };
    entries.push(entry);
  }
  return { entries };
}
