// Redaction: the bytes of a secret sent on a connection never come back to the caller in a reply. Every
// occurrence in the connection's replies, read as one stream (so one split across two steps is found), is
// replaced by `[secret:NAME]`; so is a reply stream that ends inside one (a read cut short in an echo).

import { concatBytes } from '../core/bytes.js';

/** What redaction looks for: a secret's name (for its marker) and its bytes. */
export interface RedactedSecret {
  readonly name: string;
  readonly value: Uint8Array;
}

/** The replies with every secret's bytes replaced, and where that happened. */
export interface Redaction {
  readonly replies: Uint8Array[];
  /** Whether any byte was replaced. */
  readonly redacted: boolean;
  /** For each reply, whether it had bytes replaced. */
  readonly redactedSteps: boolean[];
  /** The names of the secrets found, each once, in the order of the secrets given. */
  readonly names: string[];
}

/** The marker that stands where a secret's bytes were. */
export function secretMarker(name: string): string {
  return `[secret:${name}]`;
}

/** A stretch of the reply stream to replace: from `start` to `end` (exclusive), named after `secret`. */
interface Region {
  start: number;
  end: number;
  /** Index of the secret of the longest occurrence in it: the marker's name. */
  secret: number;
}

/** KMP failure table: for each prefix of `pattern`, the length of its longest proper border. */
function borders(pattern: Uint8Array): Uint32Array {
  const table = new Uint32Array(pattern.length);
  for (let i = 1, k = 0; i < pattern.length; i++) {
    while (k > 0 && pattern[i] !== pattern[k]) k = table[k - 1]!;
    if (pattern[i] === pattern[k]) k++;
    table[i] = k;
  }
  return table;
}

/**
 * Where secret `index` occurs in the stream `replies` make, overlapping occurrences joined into one region: one
 * pass of Knuth–Morris–Pratt over every reply in turn (the automaton's state carries across reply boundaries).
 * The state at the end is the longest tail of the stream that begins the secret: when it holds at least half
 * of it, the stream was cut inside an occurrence, and that tail is a region too.
 */
function regionsOf(value: Uint8Array, index: number, replies: readonly Uint8Array[]): Region[] {
  const regions: Region[] = [];
  if (value.length === 0) return regions;
  const table = borders(value);
  // Joined here already, not only in mergeRegions: a run of one byte matching a secret of that byte would
  // otherwise make one region per position (a million for a 1 MiB reply).
  const add = (start: number, end: number) => {
    const last = regions[regions.length - 1];
    if (last && start < last.end) last.end = end;
    else regions.push({ start, end, secret: index });
  };
  let k = 0;
  let offset = 0;
  for (const reply of replies) {
    for (let i = 0; i < reply.length; i++) {
      const byte = reply[i];
      while (k > 0 && byte !== value[k]) k = table[k - 1]!;
      if (byte === value[k]) k++;
      if (k === value.length) {
        add(offset + i + 1 - k, offset + i + 1);
        k = table[k - 1]!;
      }
    }
    offset += reply.length;
  }
  if (k > 0 && 2 * k >= value.length) add(offset - k, offset);
  return regions;
}

/** The regions of every secret, overlapping ones joined, each named after the longest secret in it. */
function mergeRegions(perSecret: Region[][], secrets: readonly RedactedSecret[]): Region[] {
  const all = perSecret.flat().sort((a, b) => a.start - b.start || a.secret - b.secret);
  const merged: Region[] = [];
  for (const region of all) {
    const last = merged[merged.length - 1];
    if (last && region.start < last.end) {
      last.end = Math.max(last.end, region.end);
      if (secrets[region.secret]!.value.length > secrets[last.secret]!.value.length) last.secret = region.secret;
    } else merged.push({ ...region });
  }
  return merged;
}

const encoder = new TextEncoder();

/**
 * `replies` (one per step, in order) with the bytes of every secret of `secrets` replaced by its marker. The
 * replies are read as one stream: an occurrence split across replies is found, and each reply that holds part
 * of it gets its own marker in place of its part, so every reply says where it lost bytes. Overlapping
 * occurrences (of one secret, or of a secret inside another) become one marker, named after the longest secret.
 * Linear in the replies' length for each secret. Bytes outside an occurrence are returned unchanged.
 */
export function redactReplies(replies: readonly Uint8Array[], secrets: readonly RedactedSecret[]): Redaction {
  const regions = mergeRegions(
    secrets.map((secret, index) => regionsOf(secret.value, index, replies)),
    secrets,
  );
  const markers = secrets.map((secret) => encoder.encode(secretMarker(secret.name)));
  const out: Uint8Array[] = [];
  const redactedSteps: boolean[] = [];
  let next = 0;
  let offset = 0;
  for (const reply of replies) {
    if (reply.length === 0) {
      out.push(reply);
      redactedSteps.push(false);
      continue;
    }
    const end = offset + reply.length;
    const chunks: Uint8Array[] = [];
    let at = offset;
    while (next < regions.length && regions[next]!.start < end) {
      const region = regions[next]!;
      if (region.start > at) chunks.push(reply.subarray(at - offset, region.start - offset));
      chunks.push(markers[region.secret]!);
      at = Math.min(region.end, end);
      if (region.end > end) break;
      next++;
    }
    if (chunks.length === 0) {
      out.push(reply);
      redactedSteps.push(false);
    } else {
      if (at < end) chunks.push(reply.subarray(at - offset));
      out.push(concatBytes(chunks, chunks.reduce((sum, chunk) => sum + chunk.length, 0)));
      redactedSteps.push(true);
    }
    offset = end;
  }
  const found = new Set(regions.map((region) => region.secret));
  return { replies: out, redacted: regions.length > 0, redactedSteps, names: secrets.filter((_, i) => found.has(i)).map((s) => s.name) };
}
