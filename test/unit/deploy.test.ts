// The SpinKube manifest cannot be applied here (no cluster), so it is checked against what the component and
// the SpinApp API (core.spinkube.dev/v1alpha1) define: settings it may name, the secret kept out of the file.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { COMPONENT_SETTINGS } from '../../src/settings/setting-names.js';
import { readSpinManifest } from '../support/spin-manifest.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface SpinVariable {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface SpinApp {
  apiVersion: string;
  kind: string;
  spec: {
    image: string;
    executor: string;
    replicas: number;
    checks: { liveness: { httpGet: { path: string } }; readiness: { httpGet: { path: string } } };
    variables: SpinVariable[];
  };
}

const app = parse(readFileSync(`${root}deploy/spinkube/spinapp.yaml`, 'utf8')) as SpinApp;

describe('deploy/spinkube/spinapp.yaml', () => {
  test('is a SpinApp run by the Spin containerd shim, with more than one replica', () => {
    expect(app.apiVersion).toBe('core.spinkube.dev/v1alpha1');
    expect(app.kind).toBe('SpinApp');
    expect(app.spec.executor).toBe('containerd-shim-spin');
    expect(app.spec.replicas).toBeGreaterThan(1);
    expect(app.spec.image).toMatch(/^[a-z0-9.-]+\/[\w./-]+:[\w.-]+$/);
  });

  test('checks liveness on /health and readiness on /ready', () => {
    expect(app.spec.checks.liveness.httpGet.path).toBe('/health');
    expect(app.spec.checks.readiness.httpGet.path).toBe('/ready');
  });

  test('names only settings the component reads, as Spin variables (lower case)', () => {
    for (const variable of app.spec.variables) {
      expect(variable.name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(COMPONENT_SETTINGS).toContain(variable.name.toUpperCase());
    }
  });

  test('binds only variables that spin.toml declares (Spin rejects others)', () => {
    const declared = readSpinManifest().get('variables');
    for (const variable of app.spec.variables) expect(declared?.has(variable.name), variable.name).toBe(true);
  });

  test('takes auth_token from a Kubernetes Secret, never from the file', () => {
    const token = app.spec.variables.find((v) => v.name === 'auth_token');
    expect(token?.value).toBeUndefined();
    expect(token?.valueFrom?.secretKeyRef).toEqual({ name: 'ai-agent-sockets', key: 'auth-token' });
  });
});
