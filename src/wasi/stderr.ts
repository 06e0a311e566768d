// The only module that writes wasi:cli/stderr: whole lines (the audit log), which wasmtime, Spin and the
// local host keep in their logs.

import { getStderr } from 'wasi:cli/stderr@0.2.12';
import { blockingWriteAll } from './blocking-write.js';

const encoder = new TextEncoder();

/**
 * Writes `line` and a newline to stderr. Never throws: a log that cannot be written (the host closed the
 * stream) costs the line, never the request it records.
 */
export function writeStderrLine(line: string): void {
  try {
    using stream = getStderr();
    blockingWriteAll(stream, encoder.encode(`${line}\n`));
  } catch {
    // Nowhere left to say it: stderr is where it would be said.
  }
}
