// Byte chunks: joining them with one copy, and the largest one a blocking write takes.

/** Largest write `wasi:io/streams` `blocking-write-and-flush` accepts in one call, on any output stream. */
export const BLOCKING_WRITE_MAX_BYTES = 4096;

/** The chunks, in order, as one array of `length` bytes (their total). */
export function concatBytes(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === length) return chunks[0]!;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
