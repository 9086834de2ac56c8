import { describe, expect, it } from 'vitest';
import { AgentrecError, ConfigError } from '../../../src/errors.js';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { ForwardingStore } from '../../../src/state/forwarding-store.js';
import type { ChangedEntry } from '../../../src/state/store.js';
import { CommitBarrier } from '../../../src/topology/runtime/commit-barrier.js';
import { openTaskStore } from '../../../src/topology/runtime/open-task-store.js';
import { resolveRunnerConfig } from '../../../src/topology/runtime/runner-config.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { recordStep } from '../../../src/topology/step.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import { changelogTopic } from '../../../src/topology/topic-names.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';
import type {
  CommitOffset,
  GroupConsumer,
  OutputRecord,
  Producer,
  TransactionalProducer,
  Transport,
} from '../../../src/topology/transport/types.js';
import { countingTopology } from '../../support/counting-topology.js';
import { eventually } from '../../support/eventually.js';

/**
 * Transactions on the embedded log, for the runtime's side of exactly-once: records are held
 * back until a commit, which then appends them and commits the offsets; an abort drops them.
 */
class HeldBackTransactions implements TransactionalProducer {
  private held: OutputRecord[] = [];
  failNextCommit: Error | undefined;

  constructor(
    private readonly inner: Producer,
    private readonly consumer: GroupConsumer,
    private readonly events: string[],
  ) {}

  get inTransaction(): boolean {
    return this.held.length > 0;
  }

  async initTransactions(): Promise<void> {
    this.events.push('init');
  }

  async send(records: OutputRecord[]): Promise<void> {
    this.held.push(...records);
  }

  async commitTransaction(offsets: CommitOffset[]): Promise<void> {
    const failure = this.failNextCommit;
    this.failNextCommit = undefined;
    if (failure) throw failure;
    await this.inner.send(this.held.splice(0));
    await this.consumer.commit(offsets);
    this.events.push(`commit ${offsets.map((o) => `${o.partition}@${o.offset}`).join(' ')}`);
  }

  async abortTransaction(): Promise<void> {
    this.held = [];
    this.events.push('abort');
  }

  async close(): Promise<void> {}
}

/** A store that notes when it writes, i.e. when its flush gets past publishing its changelog. */
class NotingStore extends ForwardingStore {
  constructor(
    inner: ConstructorParameters<typeof ForwardingStore>[0],
    private readonly events: string[],
  ) {
    super(inner);
  }

  override flush(offset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void> {
    return super.flush(offset, async (changes) => {
      await publish?.(changes);
      this.events.push(`write @${offset}`);
    });
  }
}

/** A one-partition counting topology on the embedded log with HeldBackTransactions. */
async function exactlyOnceRunner(name: string) {
  const events: string[] = [];
  const t = countingTopology(name);
  const embedded = createEmbeddedTransport();
  let transactions: HeldBackTransactions | undefined;
  const transport: Transport = Object.assign(Object.create(embedded) as Transport, {
    createTransactionalProducer(options: { consumer: GroupConsumer }) {
      transactions = new HeldBackTransactions(embedded.createProducer(), options.consumer, events);
      return transactions;
    },
  });
  const lines: string[] = [];
  const runner = new TopologyRunner(t, {
    transport,
    groupId: name,
    stateBackend: 'memory',
    commitIntervalMs: 3_600_000,
    processingGuarantee: 'exactly-once',
    log: (line) => lines.push(line),
    openStore: async (topo, store, partition, config) => new NotingStore(await openTaskStore(topo, store, partition, config), events),
  });
  await runner.start();
  const input = embedded.createProducer();
  const count = async (topic: string) => {
    let records = 0;
    for await (const chunk of embedded.readToEnd({ topic, partition: 0 })) records += chunk.length;
    return records;
  };
  return {
    runner,
    events,
    lines,
    transactions: () => transactions!,
    async process(records: number, total: number) {
      await input.send(Array.from({ length: records }, () => ({ topic: `${name}.in`, partition: 0, key: null, value: Buffer.from('x') })));
      const processed = () => runner.describe().tasks.reduce((sum, task) => sum + task.lastProcessed + 1, 0);
      await eventually(() => processed() === total, `${total} records processed`, { timeoutMs: 10_000, pollMs: 5 });
    },
    outputs: () => count(`${name}.out`),
    changelog: () => count(changelogTopic(name, 'counts')),
  };
}

describe('exactly-once commits', () => {
  it('put outputs, changelog and offsets in one transaction, and write the stores only after it committed', async () => {
    const run = await exactlyOnceRunner('eos-order');
    try {
      await run.process(3, 3);
      // Sent, but held in the open transaction: nothing is visible yet.
      expect(await run.outputs()).toBe(0);
      expect(run.transactions().inTransaction).toBe(true);
      await run.runner.commitAll();
      expect(run.events).toEqual(['init', 'commit 0@3', 'write @2']);
      expect(await run.outputs()).toBe(3);
      // The changed entry and the applied-offset marker.
      expect(await run.changelog()).toBe(2);
      // Nothing processed since: no transaction at all.
      await run.runner.commitAll();
      expect(run.events).toHaveLength(3);
    } finally {
      await run.runner.stop();
    }
  });

  it('abort a transaction that fails to commit, write no store, and stop the runner with the error', async () => {
    const run = await exactlyOnceRunner('eos-abort');
    await run.process(2, 2);
    run.transactions().failNextCommit = new AgentrecError('KAFKA_TRANSACTION_FAILED', 'cannot commit the transaction: fenced');
    await expect(run.runner.commitAll()).rejects.toThrow('KAFKA_TRANSACTION_FAILED');
    run.runner.fail(new AgentrecError('KAFKA_TRANSACTION_FAILED', 'cannot commit the transaction: fenced'));
    await run.runner.stop();
    // Aborted when the commit failed (and again, harmlessly, when the revoke after the failure found it failed).
    expect(run.events[1]).toBe('abort');
    expect(run.events.filter((event) => event !== 'abort')).toEqual(['init']);
    expect(await run.outputs()).toBe(0);
    expect(await run.changelog()).toBe(0);
  });

  it('refuse a transport without transactions, naming the setting', async () => {
    const t = topology('eos-embedded')
      .from('in', { topic: 'eos-embedded.in', partitions: 1 })
      .step(recordStep<RawRecord, Buffer>('copy', 'copy', () => (raw) => raw.value ?? Buffer.alloc(0)))
      .to('out', { topic: 'eos-embedded.out', serde: bytesSerde() });
    const runner = new TopologyRunner(t, {
      transport: createEmbeddedTransport(),
      stateBackend: 'memory',
      processingGuarantee: 'exactly-once',
      log: () => undefined,
    });
    await expect(runner.start()).rejects.toThrow(
      '[CONFIG_INVALID] /runtime/processingGuarantee: exactly-once needs Kafka transactions; the embedded log has none',
    );
    await runner.stop();
  });
});

describe('processingGuarantee', () => {
  it('defaults to at-least-once and refuses anything but the two guarantees, naming the setting', () => {
    expect(resolveRunnerConfig('t', {}).processingGuarantee).toBe('at-least-once');
    expect(resolveRunnerConfig('t', { processingGuarantee: 'exactly-once' }).processingGuarantee).toBe('exactly-once');
    const bad = () => resolveRunnerConfig('t', { processingGuarantee: 'exactly_once' as 'exactly-once' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow("/runtime/processingGuarantee: must be 'at-least-once' or 'exactly-once', got 'exactly_once'");
    expect(() => resolveRunnerConfig('t', { transactionalId: '' })).toThrow('/runtime/transactionalId');
  });
});

describe('CommitBarrier', () => {
  it('hands over the offsets once every task arrived and holds them until released', async () => {
    const barrier = new CommitBarrier(2);
    let released = 0;
    void barrier
      .forTask(0)
      .arrive(10)
      .then(() => released++);
    let arrived = false;
    void barrier.arrived.then(() => (arrived = true));
    await Promise.resolve();
    expect(arrived).toBe(false);
    void barrier
      .forTask(1)
      .arrive(undefined)
      .then(() => released++);
    expect([...(await barrier.arrived)]).toEqual([[0, 10]]);
    expect(released).toBe(0);
    barrier.release();
    await eventually(() => released === 2, 'both released', { timeoutMs: 1000, pollMs: 1 });
  });

  it('fails the commit when a task fails before arriving, and rejects the tasks held when aborted', async () => {
    const failed = new CommitBarrier(2);
    const held = failed.forTask(0).arrive(1);
    failed.fail(new Error('task 1 failed'));
    await expect(failed.arrived).rejects.toThrow('task 1 failed');
    failed.abort(new Error('aborted'));
    await expect(held).rejects.toThrow('aborted');
  });
});
