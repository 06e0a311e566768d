// Types for host/settings.mjs, used by tests.
export const COMPONENT_SETTINGS: string[];
export function componentEnvironment(env: Record<string, string | undefined>): Record<string, string>;
export const LOCAL_PROFILE_ALLOWED_TARGETS: string;
