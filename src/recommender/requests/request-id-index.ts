/**
 * The 30-bit hash request ids are indexed by: FNV-1a over the id's UTF-16 code units (no
 * encoding, no allocation), cut to 30 bits so that V8 keeps it, and the chunk numbers it maps
 * to, as small integers in a Map — no object per indexed request for the GC to trace.
 */
export function requestIdHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) & 0x3fffffff;
}

/** Marks a hash whose chunks are listed in `shared` (two or more). */
const SHARED = -1;

/**
 * Which stored chunks may hold a request id: id hash → chunk sequence numbers. A hash is not an
 * id, so a lookup reads the listed chunks and compares ids; different ids with one hash (about
 * n²/2³¹ pairs among n requests) and an id stored more than once both list several chunks.
 * Keeping only numbers keeps its memory per stored request small (see bench/README.md,
 * "Scored requests in chunks").
 */
export class RequestIdIndex {
  private readonly single = new Map<number, number>();
  private readonly shared = new Map<number, number[]>();

  /** Lists `sequence` for `hash` (once, however many of its requests have the hash). */
  add(hash: number, sequence: number): void {
    const current = this.single.get(hash);
    if (current === undefined) this.single.set(hash, sequence);
    else if (current === SHARED) {
      const list = this.shared.get(hash)!;
      if (!list.includes(sequence)) list.push(sequence);
    } else if (current !== sequence) {
      this.single.set(hash, SHARED);
      this.shared.set(hash, [current, sequence]);
    }
  }

  remove(hash: number, sequence: number): void {
    const current = this.single.get(hash);
    if (current === sequence) this.single.delete(hash);
    else if (current === SHARED) {
      const list = this.shared.get(hash)!;
      const at = list.indexOf(sequence);
      if (at < 0) return;
      list.splice(at, 1);
      if (list.length === 1) {
        this.single.set(hash, list[0]);
        this.shared.delete(hash);
      }
    }
  }

  /** The chunks listed for `hash`, newest (highest sequence) first; empty when none. */
  chunksOf(hash: number): readonly number[] {
    const current = this.single.get(hash);
    if (current === undefined) return NONE;
    if (current !== SHARED) return [current];
    return [...this.shared.get(hash)!].sort((a, b) => b - a);
  }

  /** Distinct hashes listed. */
  get size(): number {
    return this.single.size;
  }
}

const NONE: readonly number[] = Object.freeze([]);
