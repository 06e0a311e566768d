// Types for scripts/methodless-resources.mjs, used by tests.
export function declareMissingResourceClasses(bindings: string): { bindings: string; added: string[] };
export function installMethodlessResourceWorkaround(): Promise<{ added: string[] }>;
