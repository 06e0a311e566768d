// Splits a byte stream into newline-delimited messages (the MCP stdio framing) with a cap on each: a line longer
// than the cap is never held whole; its bytes are dropped as they arrive and the reader reports it at its newline.

/**
 * What the reader yields: a line's bytes (without its newline or a trailing carriage return), a line that was
 * longer than the cap (only its length so far is known), or the bytes after the last newline when the stream ended.
 * @typedef {{ kind: 'line', bytes: Buffer }
 *   | { kind: 'too-long', bytes: number }
 *   | { kind: 'unterminated', bytes: number }} StdioLine
 */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The lines of `input`, each at most `maxLineBytes` bytes; memory held is at most the cap plus one chunk.
 * Blank lines are skipped: they carry no message.
 * @param {AsyncIterable<Buffer | string>} input
 * @param {number} maxLineBytes
 * @returns {AsyncGenerator<StdioLine>}
 */
export async function* stdioLines(input, maxLineBytes) {
  /** @type {Buffer[]} */
  let parts = [];
  let length = 0;
  let overflow = false;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    while (start < bytes.length) {
      const end = bytes.indexOf(NEWLINE, start);
      const piece = bytes.subarray(start, end === -1 ? bytes.length : end);
      length += piece.length;
      if (!overflow && length > maxLineBytes) {
        // Past the cap: what was kept goes, and nothing more of this line is kept.
        overflow = true;
        parts = [];
      }
      if (!overflow && piece.length > 0) parts.push(piece);
      if (end === -1) break;
      if (overflow) yield { kind: 'too-long', bytes: length };
      else {
        const line = trimCarriageReturn(Buffer.concat(parts));
        if (line.some((b) => !isBlank(b))) yield { kind: 'line', bytes: line };
      }
      parts = [];
      length = 0;
      overflow = false;
      start = end + 1;
    }
  }
  if (length > 0) yield { kind: 'unterminated', bytes: length };
}

/** @param {Buffer} line */
function trimCarriageReturn(line) {
  return line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.subarray(0, -1) : line;
}

/** Whitespace JSON allows between tokens. @param {number} byte */
function isBlank(byte) {
  return byte === 0x20 || byte === 0x09 || byte === CARRIAGE_RETURN;
}
