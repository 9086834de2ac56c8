import { describe, expect, it } from 'vitest';
import { APPLIED_OFFSET_MARKER, ChangelogMarkers, changelogRecords, entriesBefore } from '../../../src/topology/runtime/changelog.js';
import type { SourceRecord } from '../../../src/topology/transport/types.js';

const asSource = (records: ReturnType<typeof changelogRecords>): SourceRecord[] =>
  records.map((r, offset) => ({ topic: r.topic, partition: r.partition ?? 0, offset, key: r.key, value: r.value, timestamp: 0 }));

describe('changelog', () => {
  it('publishes changes followed by an applied-offset marker on the task partition', () => {
    const records = changelogRecords(
      't.s.changelog',
      2,
      [
        { key: Buffer.from('a'), value: Buffer.from('1') },
        { key: Buffer.from('b'), value: undefined },
      ],
      41,
    );
    expect(records.map((r) => r.partition)).toEqual([2, 2, 2]);
    expect(records[1].value).toBeNull();
    expect(records[2].key).toEqual(APPLIED_OFFSET_MARKER);
    expect(records[2].value?.toString()).toBe('41');
  });

  it('restores only complete flushes: entries after the last marker are dropped', () => {
    const records = asSource([
      ...changelogRecords('c', 0, [{ key: Buffer.from('a'), value: Buffer.from('1') }], 10),
      ...changelogRecords(
        'c',
        0,
        [
          { key: Buffer.from('a'), value: Buffer.from('2') },
          { key: Buffer.from('b'), value: Buffer.from('3') },
        ],
        20,
      ),
      // A flush cut short by a crash: its entries arrived, its marker did not.
      ...changelogRecords('c', 0, [{ key: Buffer.from('a'), value: Buffer.from('99') }], 30).slice(0, 1),
    ]);
    const markers = new ChangelogMarkers();
    markers.add(records);
    expect(markers.appliedOffset).toBe(20);
    const end = markers.positionOf(20)!;
    // Applied in order, later entries win: the state as of offset 20.
    const state = new Map<string, string | undefined>();
    for (const e of entriesBefore(records, end)) state.set(e.key.toString(), e.value?.toString());
    expect(state).toEqual(
      new Map([
        ['a', '2'],
        ['b', '3'],
      ]),
    );
  });

  it('keeps deletions as tombstones so a restore removes the row', () => {
    const records = asSource([
      ...changelogRecords('c', 0, [{ key: Buffer.from('a'), value: Buffer.from('1') }], 1),
      ...changelogRecords('c', 0, [{ key: Buffer.from('a'), value: undefined }], 2),
    ]);
    const markers = new ChangelogMarkers();
    markers.add(records);
    const entries = entriesBefore(records, markers.positionOf(2)!);
    expect(entries.at(-1)).toEqual({ key: Buffer.from('a'), value: undefined });
  });
});

describe('changelog replay at an earlier commit', () => {
  it('finds the state at the last marker or the one before, and nothing for other offsets', () => {
    const records = asSource([
      ...changelogRecords('c', 0, [{ key: Buffer.from('a'), value: Buffer.from('1') }], 10),
      ...changelogRecords(
        'c',
        0,
        [
          { key: Buffer.from('a'), value: Buffer.from('2') },
          { key: Buffer.from('b'), value: Buffer.from('3') },
        ],
        20,
      ),
    ]);
    const markers = new ChangelogMarkers();
    markers.add(records);
    const at = (offset: number) => {
      const end = markers.positionOf(offset);
      if (end === undefined) return undefined;
      const state = new Map<string, string | undefined>();
      for (const e of entriesBefore(records, end)) state.set(e.key.toString(), e.value?.toString());
      return [...state].map(([k, v]) => `${k}=${v}`).sort();
    };
    expect(at(20)).toEqual(['a=2', 'b=3']);
    expect(at(10)).toEqual(['a=1']);
    expect(at(5)).toBeUndefined();
    expect(markers.previousOffset).toBe(10);
  });
});
