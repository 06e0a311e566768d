// Writing a whole buffer to a host's wasi:io output stream with blocking calls: one place for their 4096-byte limit.

import type { OutputStream } from 'wasi:io/streams@0.2.12';

/** `blocking-write-and-flush` takes at most 4096 bytes per call (wasi:io/streams). */
const BLOCKING_WRITE_MAX_BYTES = 4096;

/**
 * Writes all of `bytes` with blocking calls the stream takes, with no deadline: for streams of the host's own
 * (the HTTP response body, stderr). A peer's socket is written with `writeWithDeadline` (src/net/connection.ts).
 */
export function blockingWriteAll(stream: OutputStream, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length; offset += BLOCKING_WRITE_MAX_BYTES) {
    stream.blockingWriteAndFlush(bytes.subarray(offset, offset + BLOCKING_WRITE_MAX_BYTES));
  }
}
