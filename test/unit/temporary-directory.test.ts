// Tests run with TMPDIR at a directory of the run's own (test/support/global-setup.ts), which must be empty
// when the run ends: that check only sees what the tests and the processes they start put there.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RUN_TMPDIR_PREFIX } from '../support/global-setup.js';

describe('the temporary directory of a test run', () => {
  test('os.tmpdir() in a test is a directory of this run\'s own', () => {
    expect(basename(tmpdir())).toMatch(new RegExp(`^${RUN_TMPDIR_PREFIX}`));
    expect(existsSync(tmpdir())).toBe(true);
  });

  test('a process a test starts has the same one', () => {
    const child = spawnSync(process.execPath, ['-p', 'require("node:os").tmpdir()'], { encoding: 'utf8' });
    expect(child.stdout.trim()).toBe(tmpdir());
  });
});
