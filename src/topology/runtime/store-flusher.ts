import { AgentrecError, StateError, errorMessage } from '../../errors.js';
import type { ChangedEntry } from '../../state/store.js';
import type { Topology } from '../topology.js';
import type { Producer } from '../transport/types.js';
import type { ChangeTrackingStore } from './change-tracking-store.js';
import { changelogTopic } from '../topic-names.js';
import { changelogRecords } from './changelog.js';

export interface StoreFlusherDeps {
  topology: Topology;
  /** The application id: names the changelog topics. */
  groupId: string;
  partition: number;
  producer: Producer;
  stores: ReadonlyMap<string, ChangeTrackingStore>;
}

/** A store as the topology lists it, with the step that owns it. */
type TopologyStore = Topology['stores'][number];

/** A store flush started with a publish step, held between its publish and its write. */
interface HeldFlush {
  /** Settles when the store's changes are published (or it turned out to have none). */
  published: Promise<void>;
  /** Settles when the store wrote its batch, which it does only once the gate opens. */
  written: Promise<void>;
}

/**
 * Makes one task's stores durable at an input offset, in two phases. Phase 1 publishes every
 * logged store's changelog: its changes and the applied-offset marker, or only the marker when
 * it has none. Phase 2 lets the stores write their batches. Because no store writes before every
 * changelog holds the commit, whichever stores a crash leaves behind can be brought forward from
 * their changelogs. A failed publish stops every write.
 */
export class StoreFlusher {
  constructor(private readonly deps: StoreFlusherDeps) {}

  /**
   * `beforeWrite` runs between the phases: under exactly-once it waits for the transaction that
   * holds the changelog records to commit, so RocksDB never holds state of an aborted one.
   */
  async flush(offset: number, beforeWrite?: () => Promise<void>): Promise<void> {
    const { topology, stores } = this.deps;
    const logged = topology.stores.filter((spec) => spec.changelog !== false);
    const dirty = logged.filter((spec) => stores.get(spec.name)!.changed);
    const clean = logged.filter((spec) => !dirty.includes(spec));
    const later = topology.stores.filter((spec) => !dirty.includes(spec));

    // Phase 1: publish. A store only knows its changes inside its own flush, so a dirty store
    // publishes from there and is held at the gate until every changelog has this commit.
    const gate = new Gate();
    const markers = clean.map((spec) => this.publish(spec.name, [], offset));
    const held = dirty.map((spec) => this.holdFlush(spec, offset, gate.opened));
    try {
      await Promise.all([...markers, ...held.map((h) => h.published)]);
      await beforeWrite?.();
    } catch (error) {
      gate.fail(error);
      await Promise.allSettled(held.map((h) => h.written));
      throw error;
    }

    // Phase 2: write. The held stores first, then those that had nothing to publish from a flush.
    gate.open();
    await Promise.all(held.map((h) => h.written));
    for (const spec of later) await this.write(spec, stores.get(spec.name)!.flush(offset));
  }

  private holdFlush(spec: TopologyStore, offset: number, gate: Promise<void>): HeldFlush {
    let published!: () => void;
    const publishedPromise = new Promise<void>((resolve) => (published = resolve));
    const flushed = this.deps.stores.get(spec.name)!.flush(offset, async (changes) => {
      await this.publish(spec.name, changes, offset);
      published();
      await gate;
    });
    const written = this.write(spec, flushed);
    // A store that turned out to have nothing to publish writes at once and must not hold the
    // others back; one whose flush failed before publishing fails phase 1.
    return { published: Promise.race([publishedPromise, written]), written };
  }

  private async publish(storeName: string, changes: ChangedEntry[], offset: number): Promise<void> {
    const topic = changelogTopic(this.deps.groupId, storeName);
    try {
      await this.deps.producer.send(changelogRecords(topic, this.deps.partition, changes, offset));
    } catch (error) {
      if (error instanceof AgentrecError) throw error;
      const message = `${topic}[${this.deps.partition}] was not written: ${errorMessage(error)}`;
      throw new AgentrecError('KAFKA_DELIVERY_FAILED', message, { cause: error });
    }
  }

  /** A store's flush, its failure coded and naming the store and the step that owns it. */
  private async write(spec: TopologyStore, flushed: Promise<void>): Promise<void> {
    try {
      await flushed;
    } catch (error) {
      if (error instanceof AgentrecError) throw error;
      const message = `store '${spec.name}' partition ${this.deps.partition} could not be flushed: ${errorMessage(error)}`;
      throw new StateError('STATE_IO', message, { step: spec.step, cause: error });
    }
  }
}

/** Opens once, or fails: what held flushes wait on between their publish and their write. */
class Gate {
  readonly opened: Promise<void>;
  open!: () => void;
  fail!: (error: unknown) => void;

  constructor() {
    this.opened = new Promise<void>((resolve, reject) => ((this.open = resolve), (this.fail = reject)));
    // Nobody may be waiting when it fails (no dirty stores).
    this.opened.catch(() => undefined);
  }
}
