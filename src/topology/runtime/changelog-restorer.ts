import { AgentrecError, errorMessage } from '../../errors.js';
import type { RuntimeMetrics } from '../../metrics.js';
import type { ChangedEntry, KeyValueStore } from '../../state/store.js';
import type { Topology } from '../topology.js';
import type { SourceRecord, Transport } from '../transport/types.js';
import { changelogTopic } from '../topic-names.js';
import { ChangelogMarkers, entriesBefore } from './changelog.js';

/** Entries written per RocksDB batch while restoring from a changelog. */
const RESTORE_CHUNK = 10_000;

export interface ChangelogRestorerDeps {
  topology: Topology;
  /** The application id: names the changelog topics. */
  groupId: string;
  partition: number;
  transport: Transport;
  metrics: RuntimeMetrics;
  log(message: string): void;
}

/**
 * Brings one task's stores to a state they all agree on, from their changelog topics. Reads each
 * changelog twice: once for where its complete commits end (no entries kept), once to stream
 * the entries up to the chosen commit into the store.
 */
export class ChangelogRestorer {
  constructor(private readonly deps: ChangelogRestorerDeps) {}

  /**
   * Where local state is missing or behind what the group committed, the changelogs are the
   * truth: every store is restored to the last commit all of them completed. Otherwise local
   * state is the truth, and a store left one commit behind by a crash between two stores' writes
   * is brought forward from its changelog.
   */
  async restore(stores: ReadonlyMap<string, KeyValueStore>, committedOffset: number | undefined): Promise<void> {
    const local = new Map<string, number>();
    for (const [name, store] of stores) local.set(name, await store.appliedOffset());
    const logged = this.deps.topology.stores.filter((spec) => spec.changelog !== false).map((spec) => spec.name);
    const untrusted = logged.some((name) => {
      const offset = local.get(name)!;
      return offset < 0 || (committedOffset !== undefined && offset + 1 < committedOffset);
    });
    if (untrusted) {
      const markers = new Map<string, ChangelogMarkers>();
      for (const name of logged) markers.set(name, await this.scan(name));
      const target = Math.min(...[...markers.values()].map((m) => m.appliedOffset));
      for (const name of logged) {
        if (target > local.get(name)!) await this.restoreStore(name, stores.get(name)!, markers.get(name)!, target);
      }
    } else if (local.size > 0) {
      const target = Math.max(...local.values());
      for (const name of logged) {
        if (local.get(name)! < target) await this.restoreStore(name, stores.get(name)!, await this.scan(name), target);
      }
    }
  }

  /** First pass over a changelog partition: where its complete commits end (no entries kept). */
  private async scan(storeName: string): Promise<ChangelogMarkers> {
    const markers = new ChangelogMarkers();
    for await (const chunk of this.read(storeName)) markers.add(chunk);
    return markers;
  }

  private async *read(storeName: string): AsyncIterable<SourceRecord[]> {
    const topic = changelogTopic(this.deps.groupId, storeName);
    try {
      yield* this.deps.transport.readToEnd({ topic, partition: this.deps.partition });
    } catch (err) {
      throw new AgentrecError('CHANGELOG_RESTORE_FAILED', `reading ${topic}[${this.deps.partition}]: ${errorMessage(err)}`, { cause: err });
    }
  }

  /**
   * Second pass: streams the entries before `target`'s marker into the store in chunks, so a
   * restore needs memory for one chunk, not for the whole state. Chunks are written with applied
   * offset -1 and only the last one with `target`: a crash mid-restore leaves the store marked
   * as needing a restore, which simply runs again (entries overwrite, in changelog order).
   */
  private async restoreStore(storeName: string, store: KeyValueStore, markers: ChangelogMarkers, target: number): Promise<void> {
    const { partition, topology, metrics } = this.deps;
    const started = performance.now();
    const topic = changelogTopic(this.deps.groupId, storeName);
    const end = markers.positionOf(target);
    if (end === undefined) {
      throw new AgentrecError(
        'CHANGELOG_RESTORE_FAILED',
        `store '${storeName}' partition ${partition} must be restored to applied offset ${target}, ` +
          `but ${topic}[${partition}] ends at ${markers.appliedOffset} (previous ${markers.previousOffset})`,
      );
    }
    let pending: ChangedEntry[] = [];
    let restored = 0;
    for await (const chunk of this.read(storeName)) {
      pending = pending.concat(entriesBefore(chunk, end));
      if (pending.length >= RESTORE_CHUNK) {
        await store.restore(pending, -1);
        restored += pending.length;
        pending = [];
      }
    }
    await store.restore(pending, target);
    restored += pending.length;
    const seconds = (performance.now() - started) / 1000;
    const labels = { topology: topology.name, store: storeName, partition: String(partition) };
    metrics.restoreDuration.set(labels, seconds);
    metrics.restoredRows.inc(labels, restored);
    this.deps.log(
      `restored store '${storeName}' partition ${partition}: ${restored} entries from ${markers.recordsRead} changelog records ` +
        `in ${seconds.toFixed(3)} s (applied offset ${target})`,
    );
  }
}
