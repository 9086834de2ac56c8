import { describe, expect, it } from 'vitest';
import {
  candidateBuckets,
  decodeHistory,
  encodeHistory,
  freshHistory,
  historyBucket,
  historyLastTime,
  recordTake,
} from '../../../../src/recommender/features/action-history-state.js';

describe('action history state', () => {
  it('buckets counts as 0, 1, 2, 3–4, 5–8, 9+', () => {
    expect([0, 1, 2, 3, 4, 5, 8, 9, 1000].map(historyBucket)).toEqual([0, 1, 2, 3, 3, 4, 4, 5, 5]);
  });

  it('counts takes and gives each candidate its bucket, unknown ones 0', () => {
    const state = freshHistory(1);
    for (const a of ['git', 'git', 'shell', 'git']) recordTake(state, a, 10);
    const buckets = candidateBuckets(state, [{ actionId: 'shell' }, { actionId: 'web' }, { actionId: 'git' }], 256);
    expect(Array.from(buckets)).toEqual([1, 0, 3]);
    expect(Array.from(candidateBuckets(undefined, [{ actionId: 'git' }], 256))).toEqual([0]);
    expect(candidateBuckets(state, [{ actionId: 'git' }, { actionId: 'shell' }], 1).length).toBe(1);
  });

  it('drops the least-taken action past the bound, the earliest among equals', () => {
    const state = freshHistory(1);
    for (const a of ['a', 'a', 'b', 'c']) recordTake(state, a, 3);
    recordTake(state, 'd', 3);
    expect(state.actions).toEqual(['a', 'c', 'd']);
    expect(state.counts).toEqual([2, 1, 1]);
  });

  it('round-trips through its bytes and refuses malformed ones', () => {
    const state = freshHistory(123.5);
    for (const a of ['git', 'ünïcode tool', 'git']) recordTake(state, a, 10);
    const bytes = encodeHistory(state);
    expect(decodeHistory(bytes, 'history')).toEqual(state);
    expect(historyLastTime(bytes, 'history')).toBe(123.5);
    expect(() => decodeHistory(bytes.subarray(0, bytes.length - 1), 'history')).toThrow(/store 'history'.*malformed/);
    expect(() => decodeHistory(Buffer.concat([bytes, Buffer.from([0])]), 'history')).toThrow(/malformed/);
  });
});
