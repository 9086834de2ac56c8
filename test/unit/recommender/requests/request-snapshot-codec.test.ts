import { expect, it } from 'vitest';
import {
  decodeRequestSnapshot,
  encodeRequestSnapshot,
  requestSnapshotType,
} from '../../../../src/recommender/requests/request-snapshot-codec.js';
import type { RequestSnapshot } from '../../../../src/recommender/types.js';

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
});

it('writes exactly the bytes avsc writes for the same snapshot (so older stored snapshots read the same)', () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = ['a', 'tool=git', 'é', '×', 'naïve', '日本', '😀', 'x'.repeat(70), '', 'ü'.repeat(40), '\ud800', '\udc00x'];
  const text = () => Array.from({ length: Math.floor(random() * 4) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
  const times = [1, 0, 2 ** 30 - 1, 2 ** 30, T0, 2 ** 52 + 3, -1, -(2 ** 30), -(2 ** 30) - 1, -T0, 1_073_741_823 * 2];
  for (let n = 0; n < 400; n++) {
    const value: RequestSnapshot = {
      requestId: `req-${n}${text()}`,
      userId: text() || 'u',
      eventTime: n < times.length ? times[n] : Math.floor(random() * 2 ** 45),
      features: Array.from({ length: Math.floor(random() * 40) }, () => ({ key: text(), weight: (random() - 0.5) * 10 })),
      candidates: Array.from({ length: Math.floor(random() * 70) }, text),
      dense: random() < 0.3 ? Array.from({ length: Math.floor(random() * 5) }, () => Math.fround(random() - 0.5)) : undefined,
    };
    const bytes = encodeRequestSnapshot(value);
    const avsc = requestSnapshotType.toBuffer({ ...value, dense: value.dense ?? null });
    expect(bytes.equals(avsc), `snapshot ${n}`).toBe(true);
    // A lone surrogate is written as avsc writes it and reads back as U+FFFD, like any UTF-8 decoder.
    const strings = [value.requestId, value.userId, ...value.features.map((f) => f.key), ...value.candidates];
    if (strings.every((s) => Buffer.from(s, 'utf8').toString('utf8') === s)) expect(decodeRequestSnapshot(bytes)).toEqual(value);
  }
});

it('keeps candidate tools after the record, and reads snapshots written before them with none', () => {
  const withTools = { ...snapshot(3, [0.5]), candidateTools: ['git', '', 'shell'] };
  const bytes = encodeRequestSnapshot(withTools);
  expect(decodeRequestSnapshot(bytes)).toEqual(withTools);
  // The record part is the old layout, byte for byte: an old snapshot is that part alone.
  const old = requestSnapshotType.toBuffer({ ...withTools, candidateTools: undefined, dense: [0.5] });
  expect(bytes.subarray(0, old.length).equals(old)).toBe(true);
  expect(decodeRequestSnapshot(old)).toEqual({ ...withTools, candidateTools: undefined });
  expect(() => decodeRequestSnapshot(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/trailing bytes/);
});

it('keeps candidate history buckets after the tools, with or without tools', () => {
  const history = Uint8Array.from([0, 3, 5]);
  const historyOnly = { ...snapshot(3, undefined), candidateHistory: history };
  expect(decodeRequestSnapshot(encodeRequestSnapshot(historyOnly))).toEqual(historyOnly);
  const both = { ...snapshot(3, [0.5]), candidateTools: ['git', '', 'shell'], candidateHistory: history };
  expect(decodeRequestSnapshot(encodeRequestSnapshot(both))).toEqual(both);
  // The record part stays the old layout byte for byte.
  const old = requestSnapshotType.toBuffer({ ...historyOnly, candidateHistory: undefined, dense: null });
  expect(encodeRequestSnapshot(historyOnly).subarray(0, old.length).equals(old)).toBe(true);
  const short = { ...historyOnly, candidateHistory: Uint8Array.from([1]) };
  expect(() => decodeRequestSnapshot(encodeRequestSnapshot(short))).toThrow(/1 history buckets for 3 candidates/);
});
