import { describe, expect, it } from 'vitest';
import { splitmix32 } from '../../../src/recommender/model/kernels/prng.js';
import { ValueArena } from '../../../src/state/value-arena.js';

describe('ValueArena', () => {
  it('gives back every stored value byte for byte, across sizes and slabs', () => {
    const arena = new ValueArena();
    const random = splitmix32(7);
    const stored: { handle: number; value: Buffer }[] = [];
    // ~12 MiB of values of many lengths: several slabs per size class, every slot boundary.
    for (let i = 0; i < 40_000; i++) {
      const value = Buffer.alloc(random.nextUint32() % 600);
      for (let b = 0; b < value.length; b++) value[b] = random.nextUint32() & 0xff;
      stored.push({ handle: arena.store(value), value });
    }
    expect(arena.allocatedBytes).toBeGreaterThan(ValueArena.SLAB_BYTES * 4);
    for (const { handle, value } of stored) {
      expect(arena.lengthOf(handle)).toBe(value.length);
      expect(arena.read(handle).equals(value)).toBe(true);
    }
  });

  it('carves slots of every size from one slab, and counts freed slots until reused', () => {
    const arena = new ValueArena();
    // 300 distinct sizes, one value each: one slab in all, not one per size.
    const handles = Array.from({ length: 300 }, (_, i) => arena.store(Buffer.alloc(16 * i + 1, i & 0xff)));
    expect(arena.allocatedBytes).toBe(ValueArena.SLAB_BYTES);
    handles.forEach((h, i) => expect(arena.read(h).equals(Buffer.alloc(16 * i + 1, i & 0xff))).toBe(true));
    arena.free(handles[10]);
    expect(arena.freeBytes).toBe(ValueArena.slotBytes(161));
    expect(arena.store(Buffer.alloc(161, 7))).toBe(handles[10]);
    expect(arena.freeBytes).toBe(0);
  });

  it('hands out copies: changing what was read does not change the slot', () => {
    const arena = new ValueArena();
    const handle = arena.store(Buffer.from('row bytes'));
    const copy = arena.read(handle);
    copy.fill(0);
    expect(arena.read(handle).toString()).toBe('row bytes');
  });

  it('reuses freed slots of the same size class before taking new memory', () => {
    const arena = new ValueArena();
    const slotsPerSlab = Math.floor(ValueArena.SLAB_BYTES / ValueArena.slotBytes(272));
    const live: number[] = [];
    // Ten slabs' worth of values pass through, but never more than one slab's worth is live.
    for (let i = 0; i < slotsPerSlab * 10; i++) {
      if (live.length === Math.floor(slotsPerSlab / 2)) arena.free(live.shift()!);
      live.push(arena.store(Buffer.alloc(272, i & 0xff)));
    }
    expect(arena.allocatedBytes).toBe(ValueArena.SLAB_BYTES);
    const last = live[live.length - 1];
    expect(arena.read(last)[0]).toBe((slotsPerSlab * 10 - 1) & 0xff);
  });

  it('does not take values longer than MAX_VALUE_BYTES', () => {
    expect(ValueArena.fits(ValueArena.MAX_VALUE_BYTES)).toBe(true);
    expect(ValueArena.fits(ValueArena.MAX_VALUE_BYTES + 1)).toBe(false);
  });
});
