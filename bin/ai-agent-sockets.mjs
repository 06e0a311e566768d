#!/usr/bin/env node
// The package's command (`npx ai-agent-sockets`, `npm install -g`): the HTTP server of `npm start`, or with
// --stdio an MCP server on stdin/stdout for clients that launch their servers as a command.

import { readFileSync } from 'node:fs';

const USAGE = `Usage: ai-agent-sockets [--stdio]

Raw TCP (and TLS) for AI agents, in a sandboxed WebAssembly component.

  (no option)   serve the HTTP API and MCP over HTTP on HOST:PORT (default 127.0.0.1:8081),
                with npm start's development profile (loopback reachable unless ALLOWED_TARGETS is set)
  --stdio       serve MCP over stdin/stdout (newline-delimited JSON-RPC) for a client that launches
                this command; no port is opened; logs and the audit go to stderr. The policy is the
                component's own (loopback and private ranges denied) unless ALLOWED_TARGETS opens it.
  --help        show this help
  --version     show the version

Settings come from the environment (an MCP client's "env"): ALLOWED_TARGETS, DENIED_TARGETS,
CONNECT_TIMEOUT_MS, REQUEST_DEADLINE_MS, MAX_REPLY_BYTES, AUDIT_LOG, ... (README, "Configuration").
With --stdio, STDIO_TOKEN is the token presented for this session when AUTH_TOKEN or CALLERS is set
(default: AUTH_TOKEN; required with CALLERS).
`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(USAGE);
} else if (args.includes('--version')) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
} else if (args.length === 1 && args[0] === '--stdio') {
  await import('../host/start-stdio.mjs');
} else if (args.length === 0) {
  await import('../host/start.mjs');
} else {
  process.stderr.write(`ai-agent-sockets: unknown option ${JSON.stringify(args.find((a) => a !== '--stdio') ?? args[0])}\n\n${USAGE}`);
  process.exitCode = 2;
}
