// spin.toml serves the Spin build and gives it every setting as a Spin variable, with no secret in the file.

import { describe, expect, test } from 'vitest';
import { BUILDS } from '../../scripts/build.mjs';
import { LOCAL_PROFILE_ALLOWED_TARGETS } from '../../host/settings.mjs';
import { COMPONENT_SETTINGS } from '../../src/setting-names.js';
import { readSpinManifest } from '../support/spin-manifest.js';

const manifest = readSpinManifest();
const table = (name: string) => manifest.get(name) ?? new Map();
const variables = table('variables');
const mapped = table('component.ai-agent-sockets.variables');
const component = table('component.ai-agent-sockets');
const lowercase = COMPONENT_SETTINGS.map((name) => name.toLowerCase());

describe('spin.toml', () => {
  test('serves the Spin build, which its build command makes', () => {
    expect(component.get('source')).toBe(`dist/${BUILDS.spin.name}.wasm`);
    expect(table('component.ai-agent-sockets.build').get('command')).toBe('npm run build');
  });

  test('declares every setting as an application variable named in lowercase, and maps each into the component', () => {
    expect([...variables.keys()].sort()).toEqual([...lowercase].sort());
    expect(Object.fromEntries(mapped)).toEqual(Object.fromEntries(lowercase.map((name) => [name, `{{ ${name} }}`])));
  });

  test('each variable is `required` or has a `default`, never both (Spin refuses the manifest otherwise)', () => {
    for (const [name, declaration] of variables) {
      expect(typeof declaration, name).toBe('object');
      const fields = declaration as Record<string, unknown>;
      expect(fields.required === true !== ('default' in fields), name).toBe(true);
    }
  });

  test('auth_token is a secret with no value in the file: empty, so `spin up` without it runs the development profile', () => {
    expect(variables.get('auth_token')).toEqual({ default: '', secret: true });
    const secrets = [...variables].filter(([, d]) => (d as Record<string, unknown>).secret === true).map(([name]) => name);
    expect(secrets).toEqual(['auth_token']);
  });

  test('sets no setting through the environment table, where Spin would not expand {{ }} and a value would ship in the artifact', () => {
    expect(manifest.has('component.ai-agent-sockets.environment')).toBe(false);
  });

  test('its development profile is the one npm start uses, and its DNS servers are reachable on port 53', () => {
    expect((variables.get('allowed_targets') as Record<string, string>).default).toBe(LOCAL_PROFILE_ALLOWED_TARGETS);
    const servers = (variables.get('dns_servers') as Record<string, string>).default!.split(',');
    expect(servers.length).toBeGreaterThan(0);
    for (const server of servers) expect(component.get('allowed_outbound_hosts')).toContain(`tcp://${server}:53`);
  });
});

describe('readSpinManifest(text)', () => {
  test('reads tables, inline tables, strings and multi-line arrays; refuses what it does not understand', () => {
    const read = readSpinManifest('a = "x"\n[t]\nv = { default = "", secret = true }\nlist = [\n  "p",\n  "q",\n]\n[[skip]]\nroute = "/"\n');
    expect(read.get('')?.get('a')).toBe('x');
    expect(read.get('t')?.get('v')).toEqual({ default: '', secret: true });
    expect(read.get('t')?.get('list')).toEqual(['p', 'q']);
    expect(() => readSpinManifest('[t]\nv = 1.5\n')).toThrow(/does not understand/);
    expect(() => readSpinManifest("[t]\nv = 'literal'\n")).toThrow(/does not understand/);
  });
});
