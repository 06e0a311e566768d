// The built components import only stable WASI 0.2 functions that wasmtime serve -S cli and Spin provide; the
// Spin build imports, besides, exactly Spin's variables interface as the vendored WIT declares it.

import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { PORTABLE_COMPONENT_PATH, SPIN_COMPONENT_PATH } from '../../scripts/build.mjs';
import { componentImports, witFunctions, type InterfaceFunctions } from '../support/wit-functions.js';

const jcoDir = join(dirname(createRequire(import.meta.url).resolve('@bytecodealliance/jco')), '..');
const CANONICAL_WIT = join(jcoDir, 'lib/wit/builtin/0.2.12');
const SPIN_WIT = fileURLToPath(new URL('../../wit/deps/spin-2.0.0/package.wit', import.meta.url));
const SPIN_VARIABLES = 'fermyon:spin/variables@2.0.0';
/** What `wasmtime serve -S cli` links and Spin provides: the WASI 0.2 proxy world plus cli, filesystem and sockets. */
const HOST_PACKAGES = ['wasi:cli', 'wasi:clocks', 'wasi:filesystem', 'wasi:http', 'wasi:io', 'wasi:random', 'wasi:sockets'];

/** The component-level part of `jco print` (its first lines), without printing the whole 170 MB of core code. */
function printedHead(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(jcoDir, 'dist/jco.js'), 'print', path]);
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n  (core module');
      if (end !== -1) {
        child.kill();
        resolve(text.slice(0, end));
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 || code === null ? resolve(text) : reject(new Error(`jco print exited with ${code}`))));
  });
}

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

describe('imports of dist/ai-agent-sockets.wasm against canonical WASI 0.2.12 WIT', () => {
  let head = '';
  let imports = new Map<string, string[]>();
  let reference: InterfaceFunctions = new Map();

  beforeAll(async () => {
    head = await printedHead(PORTABLE_COMPONENT_PATH);
    imports = componentImports(head);
    reference = await canonical(CANONICAL_WIT);
  });

  test('the reader sees the socket imports the component uses', () => {
    expect(imports.get('wasi:sockets/tcp@0.2.12')).toContain('[method]tcp-socket.start-connect');
    expect(imports.get('wasi:sockets/ip-name-lookup@0.2.12')).toContain('resolve-addresses');
    expect(imports.get('wasi:sockets/instance-network@0.2.12')).toEqual(['instance-network']);
    expect(imports.get('wasi:sockets/network@0.2.12')).toEqual([]);
  });

  test('every imported function is a stable canonical WASI function on a host package', () => {
    expect(violations(imports, reference)).toEqual([]);
  });

  test('the check itself catches an @unstable import and an invented method', () => {
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

  test('its world exports only wasi:http/incoming-handler at the engine version (0.2.10), and the reader saw every import', async () => {
    const { componentWit } = await import('@bytecodealliance/jco');
    const world = await componentWit(await readFile(PORTABLE_COMPONENT_PATH));
    expect([...world.matchAll(/^\s*export (\S+);/gm)].map((m) => m[1])).toEqual(['wasi:http/incoming-handler@0.2.10']);
    expect([...world.matchAll(/^\s*import (\S+);/gm)].map((m) => m[1]).sort()).toEqual([...imports.keys()].sort());
  });
});

describe('imports of dist/ai-agent-sockets-spin.wasm: the portable imports, and Spin\'s variables as vendored', () => {
  let head = '';
  let imports = new Map<string, string[]>();
  let portable = new Map<string, string[]>();
  let spinWit = '';
  let reference: InterfaceFunctions = new Map();

  beforeAll(async () => {
    [head, portable] = await Promise.all([printedHead(SPIN_COMPONENT_PATH), printedHead(PORTABLE_COMPONENT_PATH).then(componentImports)]);
    imports = componentImports(head);
    spinWit = await readFile(SPIN_WIT, 'utf8');
    reference = await canonical(CANONICAL_WIT);
  });

  test('besides what the portable build imports, it imports exactly fermyon:spin/variables@2.0.0#get', () => {
    const extra = new Map([...imports].filter(([name]) => !portable.has(name)));
    expect(Object.fromEntries(extra)).toEqual({ [SPIN_VARIABLES]: ['get'] });
    expect([...portable.keys()].filter((name) => !imports.has(name))).toEqual([]);
    expect(violations(new Map([...imports].filter(([name]) => name !== SPIN_VARIABLES)), reference)).toEqual([]);
  });

  test('the functions it imports from Spin are the vendored WIT\'s, with its signature and error cases in order', () => {
    const vendored = witFunctions(spinWit).get(SPIN_VARIABLES.split('@')[0]!);
    expect([...(vendored?.keys() ?? [])]).toEqual(imports.get(SPIN_VARIABLES));
    expect(/^package fermyon:spin@2\.0\.0;$/m.test(spinWit)).toBe(true);
    // The component's own type of the import (jco print), against the vendored text.
    const type = head.slice(head.indexOf(`(type $ty-${SPIN_VARIABLES} `), head.indexOf(`(import "${SPIN_VARIABLES}"`));
    const cases = [...(/variant error \{([^}]*)\}/.exec(spinWit)?.[1] ?? '').matchAll(/^\s*([a-z-]+)\(string\),?\s*$/gm)].map((m) => m[1]!);
    expect(cases).toEqual(['invalid-name', 'undefined', 'provider', 'other']);
    expect(type).toContain(`(variant ${cases.map((c) => `(case "${c}" string)`).join(' ')})`);
    expect(/get: func\(name: string\) -> result<string, error>;/.test(spinWit)).toBe(true);
    expect(type).toMatch(/\(type \(;(\d+);\) \(result string \(error 1\)\)\)\s*\(type \(;\d+;\) \(func \(param "name" string\) \(result \1\)\)\)\s*\(export \(;0;\) "get"/);
  });

  test('the portable build imports nothing of Spin', () => {
    expect([...portable.keys()].filter((name) => !name.startsWith('wasi:'))).toEqual([]);
  });
});
