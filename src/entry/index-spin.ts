// Component entry of the Spin build (dist/ai-agent-sockets-spin.wasm): each setting from its Spin variable,
// the environment where the variable is empty or not mapped.

import { componentHandler } from './component.js';
import { layeredSettings } from '../settings/layered-settings.js';
import { COMPONENT_SETTINGS } from '../settings/setting-names.js';
import { readSpinVariable } from '../wasi/spin-variables.js';
import { readEnvironment } from '../wasi/environment.js';

export const incomingHandler = componentHandler(() => layeredSettings(COMPONENT_SETTINGS, readSpinVariable, readEnvironment()));
