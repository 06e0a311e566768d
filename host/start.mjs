// `npm start`: builds the component when it is missing or stale, then serves it on the local host.

import { APP_COMPONENT_PATH, build } from '../scripts/build.mjs';
import { POOL_SETTINGS, plural } from './pool.mjs';
import { startServer } from './server.mjs';
import { LOCAL_PROFILE_ALLOWED_TARGETS, socketsMode } from './settings.mjs';

/**
 * A whole-number setting from the host's environment; exits with a one-line message when it is malformed.
 * @param {import('./pool.mjs').Setting} setting
 */
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

/** @type {'worker' | 'io-thread'} */
let sockets;
try {
  sockets = socketsMode(process.env.HOST_SOCKETS);
} catch (error) {
  console.error(/** @type {Error} */ (error).message);
  process.exit(2);
}
const port = readSetting({ name: 'PORT', defaultValue: 8081, min: 0, max: 65535 });
const host = process.env.HOST || '0.0.0.0';
// The local profile: loopback is reachable unless ALLOWED_TARGETS says otherwise (set it, even empty, to opt out).
const env = { ...process.env };
if (env.ALLOWED_TARGETS === undefined) env.ALLOWED_TARGETS = LOCAL_PROFILE_ALLOWED_TARGETS;
// Where it listens, which the component cannot see: on loopback it refuses a Host that is not a loopback name (DNS rebinding).
env.LISTEN_ADDRESS = host;

/** Why the server could not listen, in one line, for the errors a user can fix. */
const LISTEN_ERRORS = {
  EADDRINUSE: 'the port is already in use: stop what holds it, or set PORT to another port (0: any free port)',
  EACCES: 'permission denied: ports below 1024 need privileges; set PORT to 1024 or above',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s: set HOST to a local address (0.0.0.0: all)',
};

// The portable build only: the Spin build is for Spin, and building it too would double the first start.
await build({ ifStale: true, only: ['portable'] });
// The app alone: the local host links the TLS engine to it (no composition tool needed).
const componentPath = APP_COMPONENT_PATH;
/** @type {import('./server.mjs').LocalHost} */
let server;
try {
  server = await startServer({
    componentPath,
    port,
    host,
    env,
    poolSize: readSetting(POOL_SETTINGS.poolSize),
    queueLimit: readSetting(POOL_SETTINGS.queueLimit),
    queueWaitMs: readSetting(POOL_SETTINGS.queueWaitMs),
    sockets,
  });
} catch (error) {
  const code = /** @type {{ code?: string }} */ (error).code;
  if (code === undefined || !Object.hasOwn(LISTEN_ERRORS, code)) throw error;
  console.error(`ai-agent-sockets cannot listen on ${host}:${port}: ${LISTEN_ERRORS[/** @type {keyof LISTEN_ERRORS} */ (code)]}`);
  process.exit(1);
}
try {
  await server.ready;
} catch (error) {
  console.error('no worker could load the component:', /** @type {AggregateError} */ (error).errors?.[0] ?? error);
  await server.close(0);
  process.exit(1);
}
// The component judges its own settings: a malformed one stops the start here, named, instead of failing
// each request that needs it later.
const readiness = await fetch(`${server.url}/ready`);
if (readiness.status !== 200) {
  const body = /** @type {{ error?: { message?: string } } | undefined} */ (await readiness.json().catch(() => undefined));
  console.error(`ai-agent-sockets cannot start: ${body?.error?.message ?? `GET /ready answered ${readiness.status}`}`);
  await server.close(0);
  process.exit(2);
}
const { workers } = server.stats();
const threads = server.threads();
const layout = sockets === 'worker' ? ` on ${threads} ${plural(threads, 'thread')}, sockets on the workers' own threads` : ", a thread each, sockets through preview2-shim's I/O thread";
console.error(`ai-agent-sockets listening on ${server.url} (${workers} ${plural(workers, 'worker')}${layout})`);
console.error(`allowed targets: ${env.ALLOWED_TARGETS || '(component default: anything outside the built-in deny list)'}`);
if (!env.AUTH_TOKEN && host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') {
  console.error(`warning: AUTH_TOKEN is not set and the server listens on ${host}: anyone who can reach this port can open connections through it`);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    console.error(`${signal}: finishing requests in flight, then stopping`);
    await server.close();
    process.exit(0);
  });
}
