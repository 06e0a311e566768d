// Writing a whole buffer to a wasi:io output stream: one place for the limit of its blocking write.

import type { OutputStream } from 'wasi:io/streams@0.2.12';

/** `blocking-write-and-flush` takes at most 4096 bytes per call (wasi:io/streams). */
const BLOCKING_WRITE_MAX_BYTES = 4096;

/** Writes all of `bytes`, in calls the stream takes; throws the stream's error. */
export function writeAll(stream: OutputStream, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length; offset += BLOCKING_WRITE_MAX_BYTES) {
    stream.blockingWriteAndFlush(bytes.subarray(offset, offset + BLOCKING_WRITE_MAX_BYTES));
  }
}
