// The only module that reads fermyon:spin/variables (the Spin build only): a setting's Spin variable.

import { get, type Error as VariableError } from 'fermyon:spin/variables@2.0.0';
import { wasiPayload } from './payload.js';
import type { Lookup } from '../settings/layered-settings.js';

/** The Spin variable of a setting: its name in lowercase (`AUTH_TOKEN` → `auth_token`), as Spin requires. */
export function spinVariableName(setting: string): string {
  return setting.toLowerCase();
}

/** The Spin variable of `setting`, as spin.toml's `[component.ai-agent-sockets.variables]` maps it. */
export function readSpinVariable(setting: string): Lookup {
  const name = spinVariableName(setting);
  try {
    return { kind: 'value', value: get(name) };
  } catch (error) {
    const payload = wasiPayload(error) as VariableError | undefined;
    if (payload?.tag === 'undefined') return { kind: 'undefined' };
    const why = payload ? `${payload.tag}: ${payload.val}` : String(error);
    return { kind: 'failed', reason: `Spin could not provide the variable ${name} (${why})` };
  }
}
