import { expect, it } from 'vitest';
import { decodeRequestSnapshot, encodeRequestSnapshot, requestSnapshotTime } from '../../../src/operators/recommender/request-snapshot-codec.js';
import type { RequestSnapshot } from '../../../src/operators/recommender/types.js';

const T0 = Date.UTC(2026, 11, 2, 9, 30);

function snapshot(candidates: number, dense?: number[]): RequestSnapshot {
  return {
    requestId: `req-${candidates}`,
    userId: 'user-7',
    eventTime: T0 + candidates,
    features: [
      { key: 'tool=git', weight: 1 },
      { key: 'text.text#123', weight: 0.5 },
    ],
    candidates: Array.from({ length: candidates }, (_, i) => `action-${i}-ünïcode`),
    dense,
  };
}

it('reads back what it wrote, small or larger than its scratch buffer, and each encoding is its own bytes', () => {
  const small = snapshot(3, [0.25, -1.5]);
  const large = snapshot(600); // ~12 KB: past the initial scratch buffer
  const smallBytes = encodeRequestSnapshot(small);
  const largeBytes = encodeRequestSnapshot(large);
  const again = encodeRequestSnapshot(small);
  expect(decodeRequestSnapshot(smallBytes)).toEqual(small);
  expect(decodeRequestSnapshot(largeBytes)).toEqual({ ...large, dense: undefined });
  expect(largeBytes.length).toBeGreaterThan(4096);
  // Later encodings reuse the scratch buffer: earlier results must not change with it.
  expect(again.equals(smallBytes)).toBe(true);
  expect(requestSnapshotTime(largeBytes)).toBe(large.eventTime);
  expect(requestSnapshotTime(smallBytes)).toBe(small.eventTime);
});
