import { AgentrecError, StateError, errorMessage } from '../../errors.js';
import type { ChangedEntry, KeyValueStore } from '../../state/store.js';
import type { Topology } from '../topology.js';
import type { Producer } from '../transport/types.js';
import { changelogTopic } from '../topic-names.js';
import { changelogRecords } from './changelog.js';

export interface StoreFlusherDeps {
  topology: Topology;
  /** The application id: names the changelog topics. */
  groupId: string;
  partition: number;
  producer: Producer;
  stores: ReadonlyMap<string, KeyValueStore>;
}

/** A store as the topology lists it, with the step that owns it. */
type TopologyStore = Topology['stores'][number];

/** A store flush started with a publish step, held between its publish and its write. */
interface HeldFlush {
  /** Settles when the store's changes are published (a store without a changelog: at once). */
  published: Promise<void>;
  /** Settles when the store wrote its batch, which it does only once the gate opens. */
  written: Promise<void>;
}

/** What a flush waits for besides the changelogs: see StoreFlusher.flush. */
export interface FlushWaits {
  /** Awaited before any changelog is published: the outputs of the input being committed. */
  beforePublish?: Promise<void>;
  /**
   * Runs between the phases: under exactly-once it waits for the transaction that holds the
   * changelog records to commit, so RocksDB never holds state of an aborted one.
   */
  beforeWrite?: () => Promise<void>;
}

/**
 * Makes one task's stores durable at an input offset, in two phases. Phase 1 publishes every
 * logged store's changelog: its changes and the applied-offset marker, or only the marker when
 * it has none. Phase 2 lets the stores write their batches, the logged ones before those without
 * a changelog. Because no store writes before every changelog holds the commit, whichever stores
 * a crash leaves behind can be brought forward from their changelogs. A failed publish stops
 * every write.
 *
 * Every store's flush starts at once, so each takes its writes as of the call: the task may
 * process on while the flush waits for acknowledgements, and what it writes meanwhile belongs
 * to the next commit.
 */
export class StoreFlusher {
  constructor(private readonly deps: StoreFlusherDeps) {}

  /** Resolves once every store wrote its batch at `offset`; see FlushWaits for what it waits on. */
  async flush(offset: number, waits: FlushWaits = {}): Promise<void> {
    const { topology } = this.deps;
    const gate = new Gate();
    const logged = topology.stores.filter((spec) => spec.changelog !== false);
    const unlogged = topology.stores.filter((spec) => spec.changelog === false);
    const ready = waits.beforePublish ?? Promise.resolve();
    const held = logged.map((spec) => this.holdFlush(spec, offset, ready, gate.opened));
    // A store without a changelog cannot be brought forward, so it writes after the others.
    const loggedWritten = gate.opened.then(() => Promise.all(held.map((h) => h.written)));
    // Nobody waits on it when every store has a changelog.
    loggedWritten.catch(() => undefined);
    const last = unlogged.map((spec) => this.holdFlush(spec, offset, Promise.resolve(), loggedWritten));
    try {
      await Promise.all([ready, ...held.map((h) => h.published)]);
      await waits.beforeWrite?.();
    } catch (error) {
      gate.fail(error);
      await Promise.allSettled([...held, ...last].map((h) => h.written));
      throw error;
    }
    gate.open();
    await Promise.all([...held, ...last].map((h) => h.written));
  }

  private holdFlush(spec: TopologyStore, offset: number, ready: Promise<void>, gate: Promise<unknown>): HeldFlush {
    let published!: () => void;
    const publishedPromise = new Promise<void>((resolve) => (published = resolve));
    const flushed = this.deps.stores.get(spec.name)!.flush(offset, async (changes) => {
      await ready;
      if (spec.changelog !== false) await this.publish(spec.name, changes, offset);
      published();
      await gate;
    });
    const written = this.write(spec, flushed);
    // One whose flush failed before publishing fails phase 1.
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
