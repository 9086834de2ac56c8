import type { ChangedEntry } from './store.js';

export interface RangeBounds {
  gte?: Buffer;
  lt?: Buffer;
  limit?: number;
}

/**
 * The buffered (not yet flushed) writes that fall inside `bounds`, in key order. Write buffers
 * are Maps keyed by the key's latin1 string: latin1 maps every byte to one UTF-16 code unit, so
 * those strings order exactly like the keys' bytes, and the default string sort orders them
 * without a comparator call per comparison. That matters because each TTL purge scans a store
 * whose commit interval of writes is still buffered.
 */
export function sortedOverlay(buffered: ReadonlyMap<string, ChangedEntry>, bounds: RangeBounds): ChangedEntry[] {
  const gte = bounds.gte?.toString('latin1');
  const lt = bounds.lt?.toString('latin1');
  const ids: string[] = [];
  for (const id of buffered.keys()) {
    if (gte !== undefined && id < gte) continue;
    if (lt !== undefined && id >= lt) continue;
    ids.push(id);
  }
  ids.sort();
  const inside = new Array<ChangedEntry>(ids.length);
  for (let i = 0; i < ids.length; i++) inside[i] = buffered.get(ids[i])!;
  return inside;
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
