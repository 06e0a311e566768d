// Settings from two sources: a first source (Spin variables) and the environment behind it. The precedence
// rule and its one security property (a source that fails never falls through) live here, away from WASI.

import type { Environment } from './config.js';
import { SettingError } from '../core/errors.js';

/** What the first source says about one setting. */
export type Lookup =
  /** It has a value; an empty value counts as none (Spin variables cannot be declared without a default). */
  | { kind: 'value'; value: string }
  /** It does not define the setting: the environment decides. */
  | { kind: 'undefined' }
  /** It should have answered and could not (a secret store down, a variable left without a value). */
  | { kind: 'failed'; reason: string };

/**
 * The settings `names` as an `Environment`: each read asks `first`, and the environment when `first` has no
 * value for it. A setting `first` failed to provide throws `503 config-invalid` naming it, and is never taken
 * from the environment instead: a missing AUTH_TOKEN would otherwise leave the service open. Each setting is
 * asked for on first read only (a failure is asked again next time), so a request pays only for what it uses.
 */
export function layeredSettings(names: readonly string[], first: (name: string) => Lookup, environment: Environment): Environment {
  const settings: Record<string, string | undefined> = {};
  for (const name of names) {
    let known: { value: string | undefined } | undefined;
    Object.defineProperty(settings, name, {
      enumerable: true,
      get() {
        if (known) return known.value;
        const found = first(name);
        if (found.kind === 'failed') throw new SettingError(name, 'a value its provider can supply', `setting ${name} is unavailable: ${found.reason}`);
        known = { value: found.kind === 'value' && found.value !== '' ? found.value : environment[name] };
        return known.value;
      },
    });
  }
  return Object.freeze(settings);
}
