// `npm start`: builds the component when it is missing or stale, then serves it on the local host.

import { build } from '../scripts/build.mjs';
import { POOL_SETTINGS, startServer } from './server.mjs';

function readSetting(setting) {
  const raw = process.env[setting.name];
  if (raw === undefined || raw === '') return setting.defaultValue;
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || value < setting.min || value > setting.max) {
    console.error(`${setting.name}=${JSON.stringify(raw)} is invalid: expected a whole number from ${setting.min} to ${setting.max}`);
    process.exit(2);
  }
  return value;
}

const port = readSetting({ name: 'PORT', defaultValue: 8081, min: 0, max: 65535 });
const host = process.env.HOST || '0.0.0.0';
const { path: componentPath } = await build({ ifStale: true });
const server = await startServer({
  componentPath,
  port,
  host,
  env: process.env,
  poolSize: readSetting(POOL_SETTINGS.poolSize),
  queueLimit: readSetting(POOL_SETTINGS.queueLimit),
});
await server.ready;
console.error(`ai-agent-sockets listening on ${server.url} (${server.stats().workers} workers)`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    console.error(`${signal}: finishing requests in flight, then stopping`);
    await server.close();
    process.exit(0);
  });
}
