// The built components import only stable WASI 0.2 functions that wasmtime serve -S cli and Spin provide; the
// Spin build imports, besides, exactly Spin's variables interface as the vendored WIT declares it. Checked on the
// parts every build makes, the apps (dist/*.app.wasm) and the committed TLS engine, and on the composed
// components (app + engine, for wasmtime, Spin and the container) where wac made them.

import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { APP_COMPONENT_PATH, PORTABLE_COMPONENT_PATH, SPIN_APP_COMPONENT_PATH, SPIN_COMPONENT_PATH } from '../../scripts/build.mjs';
import { ENGINE_INTERFACE, ENGINE_PATH } from '../../scripts/tls-engine.mjs';
import { compositionMissing } from '../support/hosts.js';
import { componentImports, witFunctions, type InterfaceFunctions } from '../support/wit-functions.js';

const jcoDir = join(dirname(createRequire(import.meta.url).resolve('@bytecodealliance/jco')), '..');
const CANONICAL_WIT = join(jcoDir, 'lib/wit/builtin/0.2.12');
const SPIN_WIT = fileURLToPath(new URL('../../wit/deps/spin-2.0.0/package.wit', import.meta.url));
const ENGINE_WIT = fileURLToPath(new URL('../../wit/deps/tls-0.1.0/client.wit', import.meta.url));
const SPIN_VARIABLES = 'fermyon:spin/variables@2.0.0';
/** What `wasmtime serve -S cli` links and Spin provides: the WASI 0.2 proxy world plus cli, filesystem and sockets. */
const HOST_PACKAGES = ['wasi:cli', 'wasi:clocks', 'wasi:filesystem', 'wasi:http', 'wasi:io', 'wasi:random', 'wasi:sockets'];

/** Each file's printed head, printed once per test file: printing a 15 MB component takes seconds. */
const printedHeads = new Map<string, Promise<string>>();

/**
 * The component-level part of `jco print` (its first lines: the imports), without printing the whole 170 MB of
 * core code. It ends at the first core module, or at the first nested component (the composed build: the app
 * and the TLS engine).
 */
function printedHead(path: string): Promise<string> {
  let head = printedHeads.get(path);
  if (!head) printedHeads.set(path, (head = printHead(path)));
  return head;
}

function printHead(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(jcoDir, 'dist/jco.js'), 'print', path]);
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      text += chunk;
      const end = text.search(/\n {2}\((core module|component)\b/);
      if (end !== -1) {
        child.kill();
        resolve(text.slice(0, end));
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 || code === null ? resolve(text) : reject(new Error(`jco print exited with ${code}`))));
  });
}

/** A component's imports as the reader finds them in `jco print`. */
const importsOf = async (path: string) => componentImports(await printedHead(path));

/** The world `jco` reads from a component: its imports and exports by name. */
async function worldOf(path: string): Promise<{ imports: string[]; exports: string[] }> {
  const { componentWit } = await import('@bytecodealliance/jco');
  const world = await componentWit(await readFile(path));
  const named = (kind: string) => [...world.matchAll(new RegExp(`^\\s*${kind} (\\S+);`, 'gm'))].map((m) => m[1]!);
  return { imports: named('import').sort(), exports: named('export') };
}

const withoutEngine = (imports: Map<string, string[]>) => new Map([...imports].filter(([name]) => name !== ENGINE_INTERFACE));

/** A suite on the composed files, which only a machine with wac has; elsewhere skipped, saying so. */
const composedSuite = (name: string) => `${name}${compositionMissing ? ' (skipped: no wac, so not built)' : ''}`;

async function canonical(dir: string): Promise<InterfaceFunctions> {
  const all: InterfaceFunctions = new Map();
  for (const pkg of await readdir(dir)) {
    for (const [name, fns] of witFunctions(await readFile(join(dir, pkg, 'package.wit'), 'utf8'))) all.set(name, fns);
  }
  return all;
}

/** Imported functions that are not stable canonical WASI 0.2 functions on a host package, as readable lines. */
function violations(imports: Map<string, string[]>, reference: InterfaceFunctions): string[] {
  const found: string[] = [];
  for (const [versioned, functions] of imports) {
    const [name, version] = versioned.split('@') as [string, string];
    if (!HOST_PACKAGES.includes(name.split('/')[0]!)) found.push(`${versioned}: not a package wasmtime serve -S cli and Spin provide`);
    if (!/^0\.2\.(\d+)$/.test(version) || Number(version.split('.')[2]) > 12) found.push(`${versioned}: not WASI 0.2.0–0.2.12`);
    const known = reference.get(name);
    if (!known) {
      found.push(`${versioned}: interface not in canonical WASI 0.2.12`);
      continue;
    }
    for (const fn of functions) {
      const entry = known.get(fn);
      if (!entry) found.push(`${versioned}#${fn}: not in canonical WASI 0.2.12`);
      else if (entry.unstable) found.push(`${versioned}#${fn}: @unstable`);
    }
  }
  return found;
}

describe('the import check', () => {
  let reference: InterfaceFunctions = new Map();

  beforeAll(async () => {
    reference = await canonical(CANONICAL_WIT);
  });

  test('catches an @unstable import, an invented method and a package no host provides', () => {
    const bad = new Map([
      ['wasi:sockets/network@0.2.12', ['network-error-code']],
      ['wasi:sockets/network@0.2.10', ['[method]network.noop']],
      ['fermyon:spin/variables@2.0.0', ['get']],
    ]);
    expect(violations(bad, reference)).toEqual([
      'wasi:sockets/network@0.2.12#network-error-code: @unstable',
      'wasi:sockets/network@0.2.10#[method]network.noop: not in canonical WASI 0.2.12',
      'fermyon:spin/variables@2.0.0: not a package wasmtime serve -S cli and Spin provide',
      'fermyon:spin/variables@2.0.0: not WASI 0.2.0–0.2.12',
      'fermyon:spin/variables@2.0.0: interface not in canonical WASI 0.2.12',
    ]);
  });
});

describe('imports of dist/ai-agent-sockets.app.wasm (the app, which the local host links with the engine)', () => {
  let imports = new Map<string, string[]>();
  let reference: InterfaceFunctions = new Map();

  beforeAll(async () => {
    [imports, reference] = await Promise.all([importsOf(APP_COMPONENT_PATH), canonical(CANONICAL_WIT)]);
  });

  test('the reader sees the socket imports the app uses', () => {
    expect(imports.get('wasi:sockets/tcp@0.2.12')).toContain('[method]tcp-socket.start-connect');
    expect(imports.get('wasi:sockets/ip-name-lookup@0.2.12')).toContain('resolve-addresses');
    expect(imports.get('wasi:sockets/instance-network@0.2.12')).toEqual(['instance-network']);
    expect(imports.get('wasi:sockets/network@0.2.12')).toEqual([]);
  });

  test('every WASI function it imports is a stable canonical WASI function on a host package', () => {
    expect(violations(withoutEngine(imports), reference)).toEqual([]);
  });

  test('its one other import is the TLS engine\'s interface, with exactly the functions wit/ declares', async () => {
    expect([...imports.keys()].filter((name) => !name.startsWith('wasi:'))).toEqual([ENGINE_INTERFACE]);
    const declared = witFunctions(await readFile(ENGINE_WIT, 'utf8')).get(ENGINE_INTERFACE.split('@')[0]!);
    expect([...(imports.get(ENGINE_INTERFACE) ?? [])].sort()).toEqual([...(declared?.keys() ?? [])].sort());
  });

  test('its world exports only wasi:http/incoming-handler at the engine version (0.2.10), and the reader saw every import', async () => {
    const world = await worldOf(APP_COMPONENT_PATH);
    expect(world.exports).toEqual(['wasi:http/incoming-handler@0.2.10']);
    expect(world.imports).toEqual([...imports.keys()].sort());
  });
});

describe('imports of tls-engine/prebuilt/tls-engine.wasm (the TLS engine)', () => {
  let imports = new Map<string, string[]>();
  let reference: InterfaceFunctions = new Map();

  beforeAll(async () => {
    [imports, reference] = await Promise.all([importsOf(ENGINE_PATH), canonical(CANONICAL_WIT)]);
  });

  test('every function it imports is a stable canonical WASI function on a host package', () => {
    expect(imports.size).toBeGreaterThan(0);
    expect(violations(imports, reference)).toEqual([]);
  });

  test('it imports no sockets, HTTP or files: it only turns bytes into bytes', () => {
    expect([...imports.keys()].filter((name) => /^wasi:(sockets|http|filesystem)\//.test(name))).toEqual([]);
  });

  test('its world exports only the interface the app imports, and the reader saw every import', async () => {
    const world = await worldOf(ENGINE_PATH);
    expect(world.exports).toEqual([ENGINE_INTERFACE]);
    expect(world.imports).toEqual([...imports.keys()].sort());
  });
});

describe('imports of dist/ai-agent-sockets-spin.app.wasm: the portable app\'s imports, and Spin\'s variables as vendored', () => {
  let head = '';
  let imports = new Map<string, string[]>();
  let portable = new Map<string, string[]>();
  let spinWit = '';
  let reference: InterfaceFunctions = new Map();

  beforeAll(async () => {
    [head, portable, spinWit, reference] = await Promise.all([
      printedHead(SPIN_APP_COMPONENT_PATH),
      importsOf(APP_COMPONENT_PATH),
      readFile(SPIN_WIT, 'utf8'),
      canonical(CANONICAL_WIT),
    ]);
    imports = componentImports(head);
  });

  test('besides what the portable app imports, it imports exactly fermyon:spin/variables@2.0.0#get', () => {
    const extra = new Map([...imports].filter(([name]) => !portable.has(name)));
    expect(Object.fromEntries(extra)).toEqual({ [SPIN_VARIABLES]: ['get'] });
    expect([...portable.keys()].filter((name) => !imports.has(name))).toEqual([]);
    expect(violations(new Map([...withoutEngine(imports)].filter(([name]) => name !== SPIN_VARIABLES)), reference)).toEqual([]);
  });

  test('the functions it imports from Spin are the vendored WIT\'s, with its signature and error cases in order', () => {
    const vendored = witFunctions(spinWit).get(SPIN_VARIABLES.split('@')[0]!);
    expect([...(vendored?.keys() ?? [])]).toEqual(imports.get(SPIN_VARIABLES));
    expect(/^package fermyon:spin@2\.0\.0;$/m.test(spinWit)).toBe(true);
    // The component's own type of the import (jco print), against the vendored text: the type just before it.
    const importAt = head.indexOf(`(import "${SPIN_VARIABLES}"`);
    const type = head.slice(head.lastIndexOf('\n  (type ', importAt), importAt);
    const cases = [...(/variant error \{([^}]*)\}/.exec(spinWit)?.[1] ?? '').matchAll(/^\s*([a-z-]+)\(string\),?\s*$/gm)].map((m) => m[1]!);
    expect(cases).toEqual(['invalid-name', 'undefined', 'provider', 'other']);
    expect(type).toContain(`(variant ${cases.map((c) => `(case "${c}" string)`).join(' ')})`);
    expect(/get: func\(name: string\) -> result<string, error>;/.test(spinWit)).toBe(true);
    expect(type).toMatch(/\(type \(;(\d+);\) \(result string \(error 1\)\)\)\s*\(type \(;\d+;\) \(func \(param "name" string\) \(result \1\)\)\)\s*\(export \(;0;\) "get"/);
  });

  test('the portable app imports nothing of Spin', () => {
    expect([...portable.keys()].filter((name) => !name.startsWith('wasi:') && name !== ENGINE_INTERFACE)).toEqual([]);
  });
});

describe.skipIf(compositionMissing !== undefined)(composedSuite('imports of dist/ai-agent-sockets.wasm (app + engine composed)'), () => {
  let imports = new Map<string, string[]>();
  let app = new Map<string, string[]>();
  let engine = new Map<string, string[]>();
  let reference: InterfaceFunctions = new Map();

  beforeAll(async () => {
    [imports, app, engine, reference] = await Promise.all([importsOf(PORTABLE_COMPONENT_PATH), importsOf(APP_COMPONENT_PATH), importsOf(ENGINE_PATH), canonical(CANONICAL_WIT)]);
  });

  test('every imported function is a stable canonical WASI function on a host package', () => {
    expect(violations(imports, reference)).toEqual([]);
  });

  test('it imports what the app imports but the engine\'s interface (the engine inside provides it), and the engine\'s other imports once each', () => {
    // wac links the engine's imports to the app's newer version of the same interface (0.2.6 to 0.2.12); an
    // interface only the engine imports keeps the engine's version.
    const unversioned = (name: string) => name.split('@')[0]!;
    const appInterfaces = new Set([...app.keys()].map(unversioned));
    const expected = [...withoutEngine(app).keys(), ...[...engine.keys()].filter((name) => !appInterfaces.has(unversioned(name)))];
    expect([...imports.keys()].sort()).toEqual(expected.sort());
  });

  test('its world exports only wasi:http/incoming-handler at the engine version (0.2.10), and the reader saw every import', async () => {
    const world = await worldOf(PORTABLE_COMPONENT_PATH);
    expect(world.exports).toEqual(['wasi:http/incoming-handler@0.2.10']);
    expect(world.imports).toEqual([...imports.keys()].sort());
  });
});

describe.skipIf(compositionMissing !== undefined)(composedSuite('imports of dist/ai-agent-sockets-spin.wasm (app + engine composed)'), () => {
  let imports = new Map<string, string[]>();
  let portable = new Map<string, string[]>();

  beforeAll(async () => {
    [imports, portable] = await Promise.all([importsOf(SPIN_COMPONENT_PATH), importsOf(PORTABLE_COMPONENT_PATH)]);
  });

  test('besides what the composed portable build imports, it imports exactly fermyon:spin/variables@2.0.0#get', () => {
    const extra = new Map([...imports].filter(([name]) => !portable.has(name)));
    expect(Object.fromEntries(extra)).toEqual({ [SPIN_VARIABLES]: ['get'] });
    expect([...portable.keys()].filter((name) => !imports.has(name))).toEqual([]);
  });

  test('the composed portable build imports nothing of Spin', () => {
    expect([...portable.keys()].filter((name) => !name.startsWith('wasi:'))).toEqual([]);
  });
});
