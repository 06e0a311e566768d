// The names of the component's settings, from the one table (setting-table.js): the Spin build reads each as a
// Spin variable, the local host (host/settings.mjs) forwards exactly these into the component.

import { SETTINGS } from './setting-table.js';

/** Every setting the component reads, as environment variable names; the Spin variable is the name in lowercase. */
export const COMPONENT_SETTINGS = Object.freeze(SETTINGS.map((setting) => setting.name));
