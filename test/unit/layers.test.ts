// The layering of src/ is a lint rule (eslint.config.js), not a description: each forbidden import fails lint.
import { ESLint } from 'eslint';
import { describe, expect, test } from 'vitest';
import { LAYERS } from '../../eslint.config.js';

const eslint = new ESLint();

/** The messages of the layer rule for `code` placed at `filePath`. */
async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('the layers of src/ are enforced by lint', () => {
  test.each([
    ['src/net/x.ts', "import { createRouter } from '../http/router.js';\nexport const x = createRouter;\n", 'src/net/ may import only src/core/'],
    ['src/net/dns/x.ts', "import { ROUTES } from '../../api/app.js';\nexport const x = ROUTES;\n", 'src/net/ may import only src/core/'],
    ['src/net/x.ts', "import { Config } from '../settings/config.js';\nexport const x = Config;\n", 'src/net/ may import only src/core/'],
    ['src/settings/x.ts', "import { jsonResponse } from '../http/responses.js';\nexport const x = jsonResponse;\n", 'src/settings/ may import only src/core/, src/net/'],
    ['src/settings/x.ts', "import { wasiSockets } from '../wasi/tcp.js';\nexport const x = wasiSockets;\n", 'src/settings/ may import only src/core/, src/net/'],
    ['src/core/x.ts', "import { Policy } from '../net/policy.js';\nexport const x = Policy;\n", 'src/core/ imports nothing else of src/'],
    ['src/http/x.ts', "import { ROUTES } from '../api/app.js';\nexport const x = ROUTES;\n", 'src/http/ may import only src/core/'],
    ['src/api/x.ts', "import { componentHandler } from '../entry/component.js';\nexport const x = componentHandler;\n", 'src/api/ may import only'],
    ['src/net/x.ts', "import { poll } from 'wasi:io/poll@0.2.12';\nexport const x = poll;\n", 'only src/wasi/ calls host imports'],
    ['src/api/x.ts', "import { get } from 'fermyon:spin/variables@2.0.0';\nexport const x = get;\n", 'only src/wasi/ calls host imports'],
  ])('%s: a forbidden import fails lint (%#)', async (filePath, code, message) => {
    const errors = await layerErrors(filePath, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
  });

  test.each([
    ['src/net/x.ts', "import { ServiceError } from '../core/errors.js';\nexport const x = ServiceError;\n"],
    ['src/net/dns/x.ts', "import { formatIp } from '../ip.js';\nexport const x = formatIp;\n"],
    ['src/net/x.ts', "import type { Pollable } from 'wasi:io/poll@0.2.12';\nexport type X = Pollable;\n"],
    ['src/wasi/x.ts', "import { poll } from 'wasi:io/poll@0.2.12';\nimport { Config } from '../settings/config.js';\nexport const x = [poll, Config];\n"],
    ['src/entry/x.ts', "import { createApp } from '../api/app.js';\nimport { wasiSockets } from '../wasi/tcp.js';\nexport const x = [createApp, wasiSockets];\n"],
  ])('%s: an allowed import passes (%#)', async (filePath, code) => {
    expect(await layerErrors(filePath, code)).toEqual([]);
  });

  test('every folder of src/ has a place in the layers (entry/ and generated/ aside)', async () => {
    const { readdirSync } = await import('node:fs');
    const folders = readdirSync('src', { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => f !== 'entry' && f !== 'generated').sort()).toEqual(Object.keys(LAYERS).sort());
    expect(readdirSync('src', { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name)).toEqual([]);
  });
});
