// The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in package.json) against the
// built component on the local host and on wasmtime, as a client would meet them: `npm start` and the loopback
// `wasmtime serve` command, no token. Each scenario that applies to a server with one tool and no prompts,
// resources or sampling runs at the revision it is written for; the checks that need the suite's diagnostic
// tools are baselined one by one (test/fixtures/mcp-conformance-baseline.yml), so every other check counts.
//
// Not run, as they do not apply: the tools-call-* scenarios (they call the suite's own tools: test_simple_text,
// test_image_content, …), logging-set-level and completion-complete (no logging or completions capability),
// resources-* and prompts-* (none), elicitation-* and input-required-result-* (this server asks nothing of the
// client), server-sse-* (JSON responses only, no GET stream), http-custom-header-server-validation (no tool
// parameter carries x-mcp-header), server-session-lifecycle (stateless: no session id), tasks-* (an extension
// this server does not declare).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findJspiNode } from '../../scripts/jspi-node.mjs';
import { localHost, selectHosts, suiteName, wasmtimeHost, type RunningHost } from '../support/hosts.js';

const BASELINE = fileURLToPath(new URL('../fixtures/mcp-conformance-baseline.yml', import.meta.url));
const CLI = join(createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json'), '..', 'dist', 'index.js');

/** The suite needs Node 22 or later (fs.globSync): this Node when it is one, else the Node 24 CI installs for JSPI. */
const node = Number(process.versions.node.split('.')[0]) >= 22 ? process.execPath : findJspiNode();
const nodeMissing = node ? undefined : `the conformance suite needs Node 22 or later (this is ${process.version}; \`node scripts/jspi-node.mjs install\` puts Node 24 in .cache)`;

/** The scenarios that apply, each at the revision it is run at. */
const SCENARIOS: [string, string][] = [
  ['server-initialize', '2025-11-25'],
  ['ping', '2025-11-25'],
  ['tools-list', '2025-11-25'],
  ['dns-rebinding-protection', '2025-11-25'],
  ['json-schema-2020-12', '2025-11-25'],
  ['server-stateless', '2026-07-28'],
  ['tools-list', '2026-07-28'],
  ['dns-rebinding-protection', '2026-07-28'],
  ['json-schema-2020-12', '2026-07-28'],
  ['http-header-validation', '2026-07-28'],
  ['caching', '2026-07-28'],
];

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
}

/** Runs one scenario; resolves with its exit code, what it printed and the checks it saved. */
function runScenario(url: string, scenario: string, specVersion: string): Promise<{ code: number | null; output: string; checks: Check[] }> {
  const outDir = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
  const args = [CLI, 'server', '--url', url, '--scenario', scenario, '--spec-version', specVersion, '--expected-failures', BASELINE, '-o', outDir];
  const child = spawn(node!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        const checks = readdirSync(outDir).flatMap((dir) => JSON.parse(readFileSync(join(outDir, dir, 'checks.json'), 'utf8')) as Check[]);
        resolve({ code, output, checks });
      } catch (error) {
        reject(new Error(`${scenario} saved no checks (exit ${code}):\n${output}`, { cause: error }));
      } finally {
        rmSync(outDir, { recursive: true, force: true });
      }
    });
  });
}

const baselined = new Set(
  readFileSync(BASELINE, 'utf8')
    .split('\n')
    .flatMap((line) => /^\s+- ([\w-]+:[\w-]+)\s*$/.exec(line)?.[1] ?? []),
);

for (const kind of selectHosts([localHost, wasmtimeHost])) {
  describe.skipIf(kind.unavailable !== undefined || nodeMissing !== undefined)(suiteName('MCP conformance suite on ', { ...kind, unavailable: kind.unavailable ?? nodeMissing }), () => {
    let host: RunningHost;
    beforeAll(async () => {
      host = await kind.start({});
    });
    afterAll(async () => {
      await host?.close();
    });

    test.each(SCENARIOS)('%s (%s) passes every check that applies', async (scenario, specVersion) => {
      const { code, output, checks } = await runScenario(`${host.url}/mcp`, scenario, specVersion);
      const failed = checks.filter((c) => c.status === 'FAILURE' && !baselined.has(`${scenario}:${c.id}`));
      expect(failed.map((c) => `${c.id}: ${c.errorMessage}`), output).toEqual([]);
      expect(checks.filter((c) => c.status === 'SUCCESS').length, output).toBeGreaterThan(0);
      expect(code, output).toBe(0);
    });
  });
}
