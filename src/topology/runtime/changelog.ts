import type { ChangedEntry } from '../../state/store.js';
import type { OutputRecord, SourceRecord } from '../transport/types.js';

/**
 * Changelog wire format. Each flush publishes its changed entries (key = store key, value =
 * store value, null = deleted) followed by one marker record whose value is the input offset
 * the flush made durable. A restore applies entries only up to the last marker it reads, so a
 * flush cut short by a crash (entries without their marker) is never half-applied.
 */
/**
 * Changelog topics belong to the application (the consumer group), not to the topology file:
 * two deployments of one topology under different group ids must never restore each other's
 * state. Same convention as Kafka Streams' `<application.id>-<store>-changelog`.
 */
export function changelogTopic(groupId: string, store: string): string {
  return `${groupId}.${store}.changelog`;
}

export const APPLIED_OFFSET_MARKER = Buffer.from('\u0000agentrec/applied-offset');

export function changelogRecords(topic: string, partition: number, changes: ChangedEntry[], appliedOffset: number): OutputRecord[] {
  const records: OutputRecord[] = changes.map((c) => ({ topic, partition, key: c.key, value: c.value ?? null }));
  records.push({ topic, partition, key: APPLIED_OFFSET_MARKER, value: Buffer.from(String(appliedOffset)) });
  return records;
}

/**
 * Folds changelog records into the state they describe. Besides the state at the last marker it
 * keeps the state at the one before: a task commits all its stores together, and when a crash
 * cut a commit short after some changelogs got their marker, the others' last complete commit is
 * one marker back.
 */
export class ChangelogReplay {
  private readonly committed = new Map<string, ChangedEntry>();
  private lastFlush = new Map<string, ChangedEntry>();
  private pending = new Map<string, ChangedEntry>();
  appliedOffset = -1;
  /** The marker before appliedOffset's (-1 when there was none). */
  previousOffset = -1;
  recordsRead = 0;

  add(records: SourceRecord[]): void {
    for (const record of records) {
      this.recordsRead++;
      if (!record.key) continue;
      if (record.key.equals(APPLIED_OFFSET_MARKER)) {
        for (const [k, v] of this.lastFlush) this.committed.set(k, v);
        this.lastFlush = this.pending;
        this.pending = new Map();
        this.previousOffset = this.appliedOffset;
        this.appliedOffset = Number(record.value?.toString() ?? '-1');
        continue;
      }
      this.pending.set(record.key.toString('latin1'), { key: record.key, value: record.value ?? undefined });
    }
  }

  /** Entries of complete flushes only; anything after the last marker is dropped. */
  entries(): ChangedEntry[] {
    return [...new Map([...this.committed, ...this.lastFlush]).values()];
  }

  /**
   * The entries as of the marker for `offset`: the last or the one before it; undefined for any
   * other offset (the changelog cannot describe that state).
   */
  entriesAt(offset: number): ChangedEntry[] | undefined {
    if (offset === this.appliedOffset) return this.entries();
    if (offset === this.previousOffset) return [...this.committed.values()];
    return undefined;
  }
}
