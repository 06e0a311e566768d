// The shipped `wasmtime serve` command is defined once (scripts/wasmtime.mjs); every place that writes one out —
// README, docs, SECURITY.md, the container's CMD — carries its allocator options, so a reader copying any of them
// runs the tuned command the suites run. The allocator options themselves are checked against the sizes the
// component was measured to need.

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { SPIN_TUNING_ENV } from '../../scripts/spin-tuning.mjs';
import { PER_REQUEST_TUNING, tuningFor, wasmtimeServeArgs } from '../../scripts/wasmtime.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const documents = ['README.md', 'SECURITY.md', ...readdirSync(`${root}docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const MiB = 2 ** 20;

/** Every `wasmtime serve …` line of a document, continuation lines (`\`) joined. */
function serveCommands(file: string): string[] {
  const text = readFileSync(`${root}${file}`, 'utf8').replace(/\\\n\s*/g, '');
  return [...text.matchAll(/^wasmtime serve .*$/gm)].map((m) => m[0]);
}

/** A command's `-O` options, in order. */
function allocatorOptions(args: string[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < args.length; i++) if (args[i] === '-O') found.push('-O', args[i + 1]!);
  return found;
}

describe('the shipped wasmtime serve command', () => {
  test.each(documents.filter((file) => serveCommands(file).length > 0))('%s writes it with the allocator options', (file) => {
    for (const command of serveCommands(file)) {
      expect(allocatorOptions(command.split(/\s+/)), command).toEqual([...PER_REQUEST_TUNING]);
      // Directly after the -S flags, as wasmtimeServeArgs puts them.
      expect(command, command).toContain(`${PER_REQUEST_TUNING.join(' ')} `);
    }
  });

  test('the Dockerfile CMD carries them (test/unit/dockerfile.test.ts checks the whole CMD)', () => {
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(readFileSync(`${root}Dockerfile`, 'utf8'))![1]!) as string[];
    expect(allocatorOptions(cmd)).toEqual([...PER_REQUEST_TUNING]);
    expect(allocatorOptions(wasmtimeServeArgs())).toEqual([...PER_REQUEST_TUNING]);
  });

  test('keeps every page a request dirties resident, and the whole table', () => {
    const option = (name: string) => Number(PER_REQUEST_TUNING.find((o) => o.startsWith(`${name}=`))?.split('=')[1]);
    // Measured by bench/dirty-pages.mjs: at most 1.40 MiB per request (a 64 KiB upload); 7,816 table entries of 8 bytes.
    expect(option('pooling-memory-keep-resident')).toBeGreaterThanOrEqual(2 * 1.4 * MiB);
    expect(option('pooling-table-keep-resident')).toBeGreaterThanOrEqual(7816 * 8);
    expect(PER_REQUEST_TUNING).toContain('pooling-pagemap-scan=auto');
  });

  test('an older release gets the options it knows, in the same order', () => {
    // A fake binary whose `serve -O help` lists all but the page-map scan, as wasmtime 36 does.
    const fake = `${root}test/fixtures/wasmtime-36-help.sh`;
    expect(tuningFor(fake)).toEqual(PER_REQUEST_TUNING.slice(0, -2));
  });

  test('Spin keeps its whole linear memory (10.06 MiB) resident: it keeps a prefix, not the dirtied pages', () => {
    expect(Number(SPIN_TUNING_ENV.SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT)).toBeGreaterThanOrEqual(161 * 65536);
  });
});
