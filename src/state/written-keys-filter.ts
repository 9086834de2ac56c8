/**
 * A Bloom filter over every key a store has written since it was created empty. "Not in the
 * filter" means "never written", so a read of that key can be answered "absent" without asking
 * RocksDB. That read is not slow in RocksDB itself but costs an await: the batch that needs it
 * waits while the JavaScript thread runs other partitions' batches (at a cold start every user's
 * first row is such a read), and everything the batch holds survives the scavenges meanwhile
 * (see bench/README.md, "Steady state, the flush path, and where a cold start goes").
 *
 * No false negatives: every key written must be added. False positives only cost the read that
 * would have happened anyway: under 1 % at capacity by the Bloom formula (10 bits and 7 probes
 * per key). Past capacity the filter says so (`full`) and the store stops consulting it, since a
 * saturated filter answers "maybe" to everything.
 */
export class WrittenKeysFilter {
  private readonly bits: Uint32Array;
  private readonly bitCount: number;
  private added = 0;

  /** Probes per key: optimal for 10 bits per key (ln 2 · 10 ≈ 7). */
  private static readonly PROBES = 7;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    this.bitCount = Math.max(64, capacity * 10);
    this.bits = new Uint32Array(Math.ceil(this.bitCount / 32));
  }

  /** True once more keys were added than the filter was sized for. */
  get full(): boolean {
    return this.added > this.capacity;
  }

  add(key: Uint8Array): void {
    this.added++;
    const [h1, h2] = hashes(key);
    for (let i = 0; i < WrittenKeysFilter.PROBES; i++) {
      const bit = (h1 + i * h2) % this.bitCount;
      this.bits[bit >>> 5] |= 1 << (bit & 31);
    }
  }

  /** False only for a key never added. */
  mayContain(key: Uint8Array): boolean {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < WrittenKeysFilter.PROBES; i++) {
      const bit = (h1 + i * h2) % this.bitCount;
      if ((this.bits[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

// Reused: hashes() is synchronous, so two calls never interleave on it.
const pair: [number, number] = [0, 0];

/**
 * Two independent 32-bit hashes of the bytes (FNV-1a and a multiplicative one with other
 * constants), combined as h1 + i·h2 (Kirsch–Mitzenmacher). h2 is odd, so the probes differ.
 */
function hashes(key: Uint8Array): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const byte = key[i];
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  pair[0] = a >>> 0;
  pair[1] = (b | 1) >>> 0;
  return pair;
}
