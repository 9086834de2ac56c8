import { describe, expect, it } from 'vitest';
import type { EmbeddingRow } from '../../../../src/recommender/rows/embedding-row-store.js';
import { rowKey } from '../../../../src/recommender/rows/row-key.js';
import { MAX_SLOTS, RowSlots } from '../../../../src/recommender/rows/row-slots.js';

const fakeRow = (id: string) => ({ key: rowKey('feature', id) }) as unknown as EmbeddingRow;

describe('row slots of the lookup step', () => {
  it('builds each key once and lists it once per batch', () => {
    const slots = new RowSlots();
    slots.beginBatch();
    const a = slots.slot('feature', 'tool=git');
    expect(slots.slot('feature', 'tool=git')).toBe(a);
    expect(a.key.equals(rowKey('feature', 'tool=git'))).toBe(true);
    expect(slots.slot('action', 'tool=git')).not.toBe(a);
    expect(slots.listed).toHaveLength(2);
    slots.beginBatch();
    expect(slots.listed).toHaveLength(0);
    expect(slots.slot('feature', 'tool=git')).toBe(a);
    expect(slots.listed).toEqual([a.key]);
  });

  it('hands out a row only in the batch that read it, and lets go of it at the next', () => {
    const slots = new RowSlots();
    slots.beginBatch();
    const slot = slots.slot('user', 'u1');
    const row = fakeRow('u1');
    slots.setRead(slot, row);
    expect(slots.readThisBatch(slot)).toBe(row);
    slots.beginBatch();
    expect(slots.readThisBatch(slot)).toBeUndefined();
    // Not just hidden: the slot no longer references the row, so it can be collected.
    expect(slot.row).toBeUndefined();
  });

  it('keeps at most MAX_SLOTS slots over all namespaces between batches', () => {
    const slots = new RowSlots();
    const perBatch = 1000;
    let most = 0;
    for (let batch = 0; batch < (MAX_SLOTS * 2) / perBatch; batch++) {
      slots.beginBatch();
      most = Math.max(most, slots.size);
      for (let i = 0; i < perBatch; i++) {
        const id = `${batch}-${i}`;
        slots.slot(i % 3 === 0 ? 'user' : i % 3 === 1 ? 'feature' : 'action', id);
      }
    }
    expect(most).toBeGreaterThan(MAX_SLOTS - perBatch);
    expect(most).toBeLessThanOrEqual(MAX_SLOTS + perBatch);
  });
});
