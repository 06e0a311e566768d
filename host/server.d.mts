// Types for host/server.mjs, used by tests and the benchmark.
export const POOL_SETTINGS: Record<'poolSize' | 'queueLimit', { name: string; defaultValue: number; min: number; max: number }>;
export interface LocalHost {
  url: string;
  port: number;
  close(graceMs?: number): Promise<void>;
  ready: Promise<unknown>;
  stats(): { workers: number; idle: number; queued: number };
  threadIds(): number[];
}
export function startServer(options: {
  componentPath: string;
  port?: number;
  host?: string;
  env?: Record<string, string | undefined>;
  poolSize?: number;
  queueLimit?: number;
}): Promise<LocalHost>;
