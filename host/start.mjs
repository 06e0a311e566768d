// `npm start`: checks its own settings, builds the component when it is missing or stale, has the component
// judge its settings, and only then listens and serves it on the local host.

import { APP_COMPONENT_PATH, build } from '../scripts/build.mjs';
import { plural } from './pool.mjs';
import { settingsProblem, startServer } from './server.mjs';
import { noWorker, orRefuse, readPoolSettings, readSetting, refuse } from './start-checks.mjs';
import { DEFAULT_HOST, LOCAL_PROFILE_ALLOWED_TARGETS, checkExposure, isLoopbackHost, socketsMode } from './settings.mjs';

// The host's own settings, each judged before anything is built or started.
const sockets = orRefuse(() => socketsMode(process.env.HOST_SOCKETS));
const port = readSetting({ name: 'PORT', defaultValue: 8081, min: 0, max: 65535 });
const host = process.env.HOST || DEFAULT_HOST;
orRefuse(() => checkExposure(host, process.env));
const pool = readPoolSettings();

// What the component sees (host/settings.mjs forwards only its documented settings).
const env = { ...process.env };
// The local profile: loopback is reachable unless ALLOWED_TARGETS says otherwise (set it, even empty, to opt out).
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
const component = { componentPath: APP_COMPONENT_PATH, env, sockets };

// The component judges its own settings before the server listens: a malformed one stops the start here,
// named, and nothing was ever answered on the port.
const problem = await settingsProblem(component).catch(noWorker);
if (problem !== undefined) refuse(`ai-agent-sockets cannot start: ${problem}`, 2);

/** @type {import('./server.mjs').LocalHost} */
let server;
try {
  server = await startServer({ ...component, port, host, ...pool });
} catch (error) {
  const code = /** @type {{ code?: string }} */ (error).code;
  if (code === undefined || !Object.hasOwn(LISTEN_ERRORS, code)) throw error;
  refuse(`ai-agent-sockets cannot listen on ${host}:${port}: ${LISTEN_ERRORS[/** @type {keyof LISTEN_ERRORS} */ (code)]}`, 1);
}
await server.ready.catch(async (error) => {
  await server.close(0);
  noWorker(error);
});
const { workers } = server.stats();
const threads = server.threads();
const layout = sockets === 'worker' ? ` on ${threads} ${plural(threads, 'thread')}, sockets on the workers' own threads` : ", a thread each, sockets through preview2-shim's I/O thread";
console.error(`ai-agent-sockets listening on ${server.url} (${workers} ${plural(workers, 'worker')}${layout})`);
console.error(`allowed targets: ${env.ALLOWED_TARGETS || '(component default: anything outside the built-in deny list)'}`);
if (!env.AUTH_TOKEN && !env.CALLERS && !isLoopbackHost(host)) {
  console.error(`warning: ALLOW_UNAUTHENTICATED=true and no AUTH_TOKEN: anyone who can reach ${host} can open connections through this server`);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    console.error(`${signal}: finishing requests in flight, then stopping`);
    await server.close();
    process.exit(0);
  });
}
