// spin.toml serves the Spin build and gives it every setting as a Spin variable, with no secret in the file.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import packageJson from '../../package.json';
import { BUILDS } from '../../scripts/build.mjs';
import { README_DNS_SERVERS } from '../../scripts/wasmtime.mjs';
import { Config } from '../../src/settings/config.js';
import { formatSocketAddress } from '../../src/net/ip.js';
import { BUILT_IN_DENIED, type PolicyEntry, parseEntry } from '../../src/net/policy.js';
import { LOCAL_PROFILE_ALLOWED_TARGETS } from '../../host/settings.mjs';
import { SETTINGS } from '../../src/settings/setting-table.js';
import { readSpinManifest } from '../support/spin-manifest.js';

const manifest = readSpinManifest();
const table = (name: string) => manifest.get(name) ?? new Map();
const variables = table('variables');
const mapped = table('component.ai-agent-sockets.variables');
const component = table('component.ai-agent-sockets');
/** The Spin variable of every setting the table marks as one. */
const lowercase = SETTINGS.filter((s) => s.spinVariable).map((s) => s.name.toLowerCase());

describe('spin.toml', () => {
  test("states the version package.json holds (the one source; the manifest's format needs its own copy)", () => {
    expect(table('application').get('version')).toBe(packageJson.version);
  });

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

  test('the secret settings (auth_token, callers, secrets) are secret variables with no value in the file: empty, so `spin up` without them runs the development profile', () => {
    const secretSettings = SETTINGS.filter((s) => s.secret).map((s) => s.name.toLowerCase());
    expect(secretSettings).toEqual(['auth_token', 'callers', 'secrets']);
    for (const name of secretSettings) expect(variables.get(name), name).toEqual({ default: '', secret: true });
    const secrets = [...variables].filter(([, d]) => (d as Record<string, unknown>).secret === true).map(([name]) => name);
    expect(secrets).toEqual(secretSettings);
  });

  test('sets no setting through the environment table, where Spin would not expand {{ }} and a value would ship in the artifact', () => {
    expect(manifest.has('component.ai-agent-sockets.environment')).toBe(false);
  });

  test('its development profile is the one npm start uses', () => {
    expect((variables.get('allowed_targets') as Record<string, string>).default).toBe(LOCAL_PROFILE_ALLOWED_TARGETS);
  });

  test('allowed_outbound_hosts lets through every loopback range the development allowed_targets opens, for TCP and UDP (Spin denies a socket the component allows)', () => {
    type Range = Extract<PolicyEntry, { kind: 'range' }>;
    const contains = (outer: Range, inner: Range) =>
      outer.family === inner.family && outer.prefix <= inner.prefix && inner.network >> BigInt((outer.family === 'ipv4' ? 32 : 128) - outer.prefix) === outer.network >> BigInt((outer.family === 'ipv4' ? 32 : 128) - outer.prefix);
    const asRange = (text: string) => {
      const entry = parseEntry(text);
      if (entry?.kind !== 'range') throw new Error(`not an address range: ${text}`);
      return entry;
    };
    const urls = component.get('allowed_outbound_hosts') as string[];
    const outboundOf = (scheme: string) => urls.filter((url) => url.startsWith(`${scheme}://`)).map((url) => asRange(url.slice(scheme.length + 3)));
    const loopback = BUILT_IN_DENIED.filter((range) => range.note === 'loopback');
    const allowed = (variables.get('allowed_targets') as Record<string, string>).default!.split(',').map(asRange);
    // An allow entry opens a denied range only when it names it at least as specifically (README, Destination policy).
    const opened = allowed.filter((entry) => loopback.some((range) => contains(range, entry) || contains(entry, range) && entry.prefix >= range.prefix));
    expect(opened.map((entry) => entry.text).sort()).toEqual(['127.0.0.0/8:*', '[::1]:*']);
    for (const scheme of ['tcp', 'udp']) {
      for (const entry of opened) {
        const covered = outboundOf(scheme).some((rule) => contains(rule, entry) && (rule.port === '*' || rule.port === entry.port));
        expect(covered, `${scheme}://${entry.text} is not in allowed_outbound_hosts`).toBe(true);
      }
    }
  });

  test('allows each of its DNS servers (the README\'s) in allowed_outbound_hosts, on its port, over TCP and UDP', () => {
    const dnsServers = (variables.get('dns_servers') as Record<string, string>).default!;
    expect(dnsServers).toBe(README_DNS_SERVERS);
    const { servers } = new Config({ DNS_SERVERS: dnsServers }).dns;
    expect(servers.length).toBeGreaterThan(0);
    for (const server of servers) {
      for (const scheme of ['tcp', 'udp']) expect(component.get('allowed_outbound_hosts')).toContain(`${scheme}://${formatSocketAddress(server)}`);
    }
  });
});

describe('the Spin documentation', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const spinSection = readme.slice(readme.indexOf('## Running on Spin'), readme.indexOf('## Troubleshooting'));
  const security = readFileSync(new URL('../../SECURITY.md', import.meta.url), 'utf8');

  test('README: every `--variable NAME=` names a variable of spin.toml, the token given on the command line and through SPIN_VARIABLE_AUTH_TOKEN', () => {
    const given = [...spinSection.matchAll(/--variable ([a-z_]+)=/g)].map((m) => m[1]!);
    expect(given).toContain('auth_token');
    for (const name of given) expect(variables.has(name), name).toBe(true);
    expect(spinSection).toMatch(/^SPIN_VARIABLE_AUTH_TOKEN=.+ spin up /m);
  });

  test('SECURITY.md: the hardened manifest serves the Spin build, its token a required secret, its other settings known variables', () => {
    const hardened = readSpinManifest(/## Hardened deployment \(Spin\)\n\n```toml\n([\s\S]*?)```/.exec(security)![1]!);
    expect(hardened.get('component.ai-agent-sockets')?.get('source')).toBe(`dist/${BUILDS.spin.name}.wasm`);
    expect(hardened.get('variables')?.get('auth_token')).toEqual({ required: true, secret: true });
    const componentVariables = hardened.get('component.ai-agent-sockets.variables') ?? new Map();
    expect(componentVariables.get('auth_token')).toBe('{{ auth_token }}');
    for (const name of componentVariables.keys()) expect(lowercase, name).toContain(name);
    expect(hardened.has('component.ai-agent-sockets.environment')).toBe(false);
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
