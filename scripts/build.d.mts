// Types for scripts/build.mjs, used by tests.
export const COMPONENT_PATH: string;
export function inputsHash(): Promise<string>;
export function build(options?: { ifStale?: boolean; quiet?: boolean }): Promise<{ built: boolean; path: string }>;
