// Types for host/transpile-cache.mjs, used by tests.
export const CACHE_DIR: string;
export function readJcoDebugOnce(code: string): string;
export function transpiled(componentPath: string, cacheDir?: string): Promise<{ entry: string; hash: string; cached: boolean }>;
