// `ai-agent-sockets --stdio`: the local host as an MCP server over stdin/stdout, for clients that launch their servers
// as a command (Claude Desktop, Cursor, Codex, Claude Code). It builds the component when it is missing or stale,
// has it judge its settings, starts the pool and hands every stdin line to the component's own MCP handler. No
// port is opened. stdout carries protocol messages only; everything else (the audit included) goes to stderr.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { APP_COMPONENT_PATH } from '../scripts/build.mjs';
import { serveStdio } from './mcp-stdio.mjs';
import { plural } from './pool.mjs';
import { maxBodyBytes } from './request-limits.mjs';
import { settingsProblem, startComponentPool } from './server.mjs';
import { socketsMode, stdioToken } from './settings.mjs';
import { noWorker, orRefuse, readPoolSettings, refuse } from './start-checks.mjs';

/**
 * Workers unless POOL_SIZE says otherwise: one client launches this process for itself and sends a call or two at a
 * time, so the server's default (up to 16 workers, each a thread and an instance) would be memory it never uses.
 * Two let a call proceed while another waits on a silent peer.
 */
const STDIO_POOL_SIZE = 2;
/** How long requests in flight may finish after SIGINT or SIGTERM. */
const CLOSE_GRACE_MS = 10_000;

// stdout is the protocol stream: only serveStdio writes it. Anything else that writes there (a dependency's
// console.log) goes to stderr instead, where an MCP client keeps a server's log.
const protocolOut = process.stdout;
const writeProtocol = protocolOut.write.bind(protocolOut);
process.stdout.write = /** @type {typeof process.stdout.write} */ (process.stderr.write.bind(process.stderr));

// The host's own settings, judged before anything is built or started. HOST and PORT mean nothing here: no port is opened.
const sockets = orRefuse(() => socketsMode(process.env.HOST_SOCKETS));
const pool = readPoolSettings({ poolSize: STDIO_POOL_SIZE });
const token = orRefuse(() => stdioToken(process.env));

// The component's own default policy: ALLOWED_TARGETS and the rest come from the environment (an MCP client's
// `env`), and nothing opens loopback unless a setting says so, unlike `npm start`'s development profile.
const env = { ...process.env };
const component = { componentPath: APP_COMPONENT_PATH, env, sockets };

// The build runs in a process of its own with its stdout on stderr: componentize-js hands its tools this
// process's stdout, where their output would corrupt the protocol stream.
const root = fileURLToPath(new URL('..', import.meta.url));
const built = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale', '--only=portable'], { cwd: root, stdio: ['ignore', 2, 2] });
if (built.status !== 0) refuse(`ai-agent-sockets cannot start: the component build failed (${built.error?.message ?? `exit ${built.status}`})`, 1);

const problem = await settingsProblem(component).catch(noWorker);
if (problem !== undefined) refuse(`ai-agent-sockets cannot start: ${problem}`, 2);

const workers = await startComponentPool({ ...component, ...pool });
await workers.pool.ready.catch(async (error) => {
  await workers.close();
  noWorker(error);
});
const { workers: count } = workers.pool.stats();
console.error(`ai-agent-sockets serving MCP over stdio (${count} ${plural(count, 'worker')}, ${workers.threads()} ${plural(workers.threads(), 'thread')})`);
console.error(`allowed targets: ${workers.env.ALLOWED_TARGETS || '(component default: anything outside the built-in deny list; loopback and private ranges denied)'}`);

// Reading stops on a signal or when the client stops reading stdout; requests in flight are still answered.
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`${signal}: finishing requests in flight, then stopping`);
    stop.abort();
    setTimeout(() => process.exit(0), CLOSE_GRACE_MS).unref();
  });
}
protocolOut.on('error', (error) => {
  console.error(`ai-agent-sockets stdio: stdout failed (${/** @type {NodeJS.ErrnoException} */ (error).code ?? error.message}); stopping`);
  stop.abort();
});

await serveStdio({
  input: process.stdin,
  write: (line) => void writeProtocol(`${line}\n`),
  run: (request) => workers.pool.run(request),
  maxLineBytes: maxBodyBytes(workers.env),
  maxInFlight: workers.pool.capacity,
  token,
  signal: stop.signal,
  log: (line) => console.error(line),
});
await workers.close();
// Whatever is still queued for stdout is written before the exit.
protocolOut.end(() => process.exit(0));
