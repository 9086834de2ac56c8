import type { ChangedEntry } from '../../state/store.js';
import type { OutputRecord, SourceRecord } from '../transport/types.js';

/**
 * Changelog wire format. Each flush publishes its changed entries (key = store key, value =
 * store value, null = deleted) followed by one marker record whose value is the input offset
 * the flush made durable. A restore applies entries only up to the last marker it reads, so a
 * flush cut short by a crash (entries without their marker) is never half-applied.
 */
export const APPLIED_OFFSET_MARKER = Buffer.from('\u0000agentrec/applied-offset');

export function changelogRecords(topic: string, partition: number, changes: ChangedEntry[], appliedOffset: number): OutputRecord[] {
  const records: OutputRecord[] = changes.map((c) => ({ topic, partition, key: c.key, value: c.value ?? null }));
  records.push({ topic, partition, key: APPLIED_OFFSET_MARKER, value: Buffer.from(String(appliedOffset)) });
  return records;
}

/**
 * Where the complete commits in a changelog partition end. A restore needs the state as of one
 * marker: the last, or the one before it (a task commits all its stores together, and when a
 * crash cut a commit short after some changelogs got their marker, the others' last complete
 * commit is one marker back). Scanning keeps only marker positions, so it needs no memory for
 * the state itself; the entries are then streamed into the store (see changelog-restorer.ts).
 */
export class ChangelogMarkers {
  /** Applied offset of the last marker, -1 when there is none. */
  appliedOffset = -1;
  /** Applied offset of the marker before it, -1 when there is none. */
  previousOffset = -1;
  recordsRead = 0;
  private lastPosition = -1;
  private previousPosition = -1;

  add(records: SourceRecord[]): void {
    for (const record of records) {
      this.recordsRead++;
      if (!record.key?.equals(APPLIED_OFFSET_MARKER)) continue;
      this.previousOffset = this.appliedOffset;
      this.previousPosition = this.lastPosition;
      this.appliedOffset = Number(record.value?.toString() ?? '-1');
      this.lastPosition = record.offset;
    }
  }

  /**
   * The changelog offset of the marker for applied offset `offset` (entries before it make up
   * that state), or undefined when the changelog cannot describe it.
   */
  positionOf(offset: number): number | undefined {
    if (offset === this.appliedOffset && this.lastPosition >= 0) return this.lastPosition;
    if (offset === this.previousOffset && this.previousPosition >= 0) return this.previousPosition;
    return undefined;
  }
}

/** The entries among `records` that belong to the state before changelog offset `end`. */
export function entriesBefore(records: SourceRecord[], end: number): ChangedEntry[] {
  const entries: ChangedEntry[] = [];
  for (const record of records) {
    if (record.offset >= end || !record.key || record.key.equals(APPLIED_OFFSET_MARKER)) continue;
    entries.push({ key: record.key, value: record.value ?? undefined });
  }
  return entries;
}
