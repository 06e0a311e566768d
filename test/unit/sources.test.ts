// Checks that keep generated and vendored files, and lists kept in two places, from drifting apart.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { POOL_SETTINGS } from '../../host/pool.mjs';
import { componentEnvironment } from '../../host/settings.mjs';
import { BUILDS } from '../../scripts/build.mjs';
import { Config } from '../../src/settings/config.js';
import { COMPONENT_SETTINGS } from '../../src/settings/setting-names.js';
import { SETTINGS } from '../../src/settings/setting-table.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const jcoDir = join(dirname(createRequire(import.meta.url).resolve('@bytecodealliance/jco')), '..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('generated and vendored files', () => {
  test('src/generated/wit is what `npm run wit-types` generates from wit/ (both worlds)', () => {
    const out = mkdtempSync(join(tmpdir(), 'wit-types-'));
    try {
      for (const { world } of Object.values(BUILDS)) {
        const result = spawnSync(process.execPath, [join(jcoDir, 'dist/jco.js'), 'guest-types', 'wit', '-o', out, '--world-name', world, '-q'], { cwd: root });
        expect(result.status, String(result.stderr)).toBe(0);
      }
      const committed = join(root, 'src/generated/wit');
      expect(filesUnder(out)).toEqual(filesUnder(committed));
      for (const file of filesUnder(out)) expect(readFileSync(join(committed, file), 'utf8'), file).toBe(readFileSync(join(out, file), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('`npm run wit-types` generates the types of both builds\' worlds', () => {
    const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['wit-types'];
    for (const { world } of Object.values(BUILDS)) expect(script).toContain(`--world-name ${world} `);
  });

  test('wit/deps holds canonical WASI 0.2.12 WIT (http re-versioned to 0.2.10 only in its own name), and Spin\'s variables', () => {
    const canonical = join(jcoDir, 'lib/wit/builtin/0.2.12');
    const dirs = readdirSync(join(root, 'wit/deps'));
    // Spin's interface has no canonical copy here: test/e2e/wasi-compat.test.ts checks the Spin build against it.
    expect(dirs.filter((dir) => dir.startsWith('spin-'))).toEqual(['spin-2.0.0']);
    // The TLS engine's interface is this project's own (tls-engine/ implements it).
    expect(dirs.filter((dir) => dir.startsWith('tls-'))).toEqual(['tls-0.1.0']);
    for (const dir of dirs.filter((d) => !d.startsWith('spin-') && !d.startsWith('tls-'))) {
      const [name, version] = dir.split(/-(?=0\.)/) as [string, string];
      const vendored = readFileSync(join(root, 'wit/deps', dir, 'package.wit'), 'utf8');
      let expected = readFileSync(join(canonical, `wasi-${name}`, 'package.wit'), 'utf8');
      if (version === '0.2.10') expected = expected.replace(/^package wasi:http@0\.2\.12;/m, 'package wasi:http@0.2.10;').replace(/wasi:http\/([a-z-]+)@0\.2\.12/g, 'wasi:http/$1@0.2.10');
      expect(vendored, dir).toBe(expected);
    }
  });
});

describe('settings', () => {
  test('the local host forwards exactly the one list of settings, src/settings/setting-names.js, and nothing else of its environment', () => {
    const everything = Object.fromEntries([...COMPONENT_SETTINGS, 'PATH', 'HOME', 'POOL_SIZE', 'NODE_OPTIONS'].map((name) => [name, 'x']));
    expect(Object.keys(componentEnvironment(everything)).sort()).toEqual([...COMPONENT_SETTINGS].sort());
  });

  test('the component reads exactly the settings of the table, src/settings/setting-table.js', () => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get: (_target, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    const config = new Config(env, () => 1);
    void [config.tlsRoots, config.origins, config.policy, config.authToken, config.callers, config.secrets, config.limits, config.auditLog, config.dns, config.defaultTarget];
    const byGetters = [...read].sort();
    read.clear();
    void config.problems;
    expect(byGetters).toEqual(SETTINGS.map((s) => s.name).sort());
    expect([...read].sort()).toEqual(byGetters);
  });

  test.each(SETTINGS.filter((s) => s.secret).map((s) => [s.name]))("a malformed %s (a secret) is reported without its value", (name) => {
    const value = 'not {{ a }} token';
    const problems = new Config({ [name]: value }).problems;
    expect(problems.map((p) => p.setting)).toEqual([name]);
    expect(problems[0]!.message).not.toContain(value);
    expect(problems[0]!.expected).not.toContain(value);
  });

  test.each(SETTINGS.filter((s) => !s.secret).map((s) => [s.name, s.expected]))('%s malformed is reported with the expected form of the table', (name, expected) => {
    const problems = new Config({ [name]: '%bad%' }, () => 0).problems;
    expect(problems.map((p) => [p.setting, p.expected])).toEqual([[name, expected]]);
  });

  test('nothing else of the host environment reaches the component', () => {
    expect(componentEnvironment({ HOME: '/root', AWS_SECRET_ACCESS_KEY: 'x', CONNECT_TIMEOUT_MS: '10', AUTH_TOKEN: 't' })).toEqual({ CONNECT_TIMEOUT_MS: '10', AUTH_TOKEN: 't' });
  });

  test('the README documents every setting', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const hostSettings = [...Object.values(POOL_SETTINGS).map((s) => s.name), 'PORT', 'HOST', 'HOST_SOCKETS', 'ALLOW_UNAUTHENTICATED'];
    expect(hostSettings).toContain('QUEUE_WAIT_MS');
    for (const name of hostSettings) expect(readme, name).toContain(`\`${name}\``);
    // The configuration table: a row for every setting of the table, stating a numeric one's default and bounds.
    const rows = new Map(readme.split('\n').flatMap((line) => {
      const row = /^\| `([A-Z][A-Z0-9_]+)` \|(.*)$/.exec(line);
      return row ? [[row[1]!, row[2]!] as const] : [];
    }));
    for (const setting of SETTINGS) {
      expect(rows.has(setting.name), setting.name).toBe(true);
      if (setting.parser === 'whole-number') expect(rows.get(setting.name), setting.name).toMatch(new RegExp(`^ \`${setting.defaultValue}\`.*\\| ${setting.min}–${setting.max} \\|`));
    }
  });
});
