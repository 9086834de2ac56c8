/**
 * MurmurHash3 x86_32 over the UTF-16LE bytes of a string: stable across platforms and Node
 * versions (unlike any engine-internal string hash), so hashed feature keys written to state
 * and changelogs today still mean the same rows after an upgrade. Reading UTF-16 code units
 * directly avoids encoding every text to UTF-8 first; the hash is still the reference
 * algorithm, just over those bytes.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Hashes `text[start, end)` (code units) without slicing it. Returns an unsigned 32-bit int. */
export function murmur3(text: string, seed = 0, start = 0, end = text.length): number {
  let h = seed >>> 0;
  let i = start;
  for (; i + 1 < end; i += 2) {
    h = mixBlock(h, text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16));
  }
  if (i < end) h ^= mixK(text.charCodeAt(i));
  return finalize(h, (end - start) * 2);
}

/** Hash of three code units (6 bytes), for character trigrams that include virtual word-boundary
 * markers and therefore do not exist as a substring to hash. Equals murmur3 of the 3-unit string. */
export function murmur3CodeUnits3(a: number, b: number, c: number, seed = 0): number {
  const h = mixBlock(seed >>> 0, a | (b << 16));
  return finalize(h ^ mixK(c), 6);
}

/** Hash of two 32-bit words (8 bytes, little-endian): used to hash a word bigram from the hashes
 * of its two words instead of building the bigram string. */
export function murmur3Int2(a: number, b: number, seed = 0): number {
  return finalize(mixBlock(mixBlock(seed >>> 0, a), b), 8);
}

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixBlock(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finalize(h: number, byteLength: number): number {
  h ^= byteLength;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
