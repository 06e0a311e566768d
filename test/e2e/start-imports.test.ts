// `npm start` with a current build loads no build tool: webpack and componentize-js are imported only when a
// component is (re)built, so a warm start does not pay for loading them.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localHost } from '../support/hosts.js';

const recorder = fileURLToPath(new URL('../fixtures/record-imports.mjs', import.meta.url));

describe('npm start with a current build', () => {
  // Made when the suite runs, not when it is collected: a run that filters it out leaves nothing behind.
  let scratch: string;
  let record: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'start-imports-'));
    record = join(scratch, 'imports.txt');
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('imports neither webpack nor componentize-js', async () => {
    const host = await localHost.start({ POOL_SIZE: '1', RECORD_IMPORTS_TO: record, NODE_OPTIONS: `--import=${recorder}` });
    await host.close();
    const loaded = readFileSync(record, 'utf8');
    // The recorder works: it saw the host's own modules.
    expect(loaded).toContain('/host/server.mjs');
    expect(loaded).not.toMatch(/node_modules\/webpack\//);
    expect(loaded).not.toMatch(/node_modules\/@bytecodealliance\/componentize-js\//);
  });
});
