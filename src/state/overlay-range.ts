import type { ChangedEntry } from './store.js';

export interface RangeBounds {
  gte?: Buffer;
  lt?: Buffer;
  limit?: number;
}

/**
 * The buffered (not yet flushed) writes that fall inside `bounds`, in key order. Write buffers
 * are Maps keyed by the key's latin1 string: latin1 maps every byte to one UTF-16 code unit,
 * so comparing those strings orders keys exactly like comparing their bytes.
 */
export function sortedOverlay(buffered: Iterable<ChangedEntry>, bounds: RangeBounds): ChangedEntry[] {
  const inside: ChangedEntry[] = [];
  for (const entry of buffered) {
    if (bounds.gte && Buffer.compare(entry.key, bounds.gte) < 0) continue;
    if (bounds.lt && Buffer.compare(entry.key, bounds.lt) >= 0) continue;
    inside.push(entry);
  }
  return inside.sort((a, b) => Buffer.compare(a.key, b.key));
}

/**
 * Merges sorted buffered writes over a sorted base range: a buffered value replaces the base
 * value under the same key and a buffered delete (value undefined) hides it. This is what
 * gives write-back stores read-your-writes over range scans without flushing first.
 */
export async function* overlayRange(
  base: AsyncIterable<[Buffer, Buffer]>,
  overlay: readonly ChangedEntry[],
  limit = Infinity,
): AsyncGenerator<[Buffer, Buffer]> {
  if (limit <= 0) return;
  let emitted = 0;
  let next = 0;
  for await (const [key, value] of base) {
    while (next < overlay.length && Buffer.compare(overlay[next].key, key) < 0) {
      const pending = overlay[next++];
      if (pending.value === undefined) continue;
      yield [pending.key, pending.value];
      if (++emitted >= limit) return;
    }
    if (next < overlay.length && overlay[next].key.equals(key)) {
      const pending = overlay[next++];
      if (pending.value === undefined) continue;
      yield [pending.key, pending.value];
    } else {
      yield [key, value];
    }
    if (++emitted >= limit) return;
  }
  for (; next < overlay.length; next++) {
    const pending = overlay[next];
    if (pending.value === undefined) continue;
    yield [pending.key, pending.value];
    if (++emitted >= limit) return;
  }
}
