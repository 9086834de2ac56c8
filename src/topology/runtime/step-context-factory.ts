import { AgentrecError } from '../../errors.js';
import type { RuntimeMetrics } from '../../metrics.js';
import type { KeyValueStore } from '../../state/store.js';
import { TaskScope } from '../task-scope.js';
import type { Producer, Transport } from '../transport/types.js';
import type { RecordMeta, StepContext, StepDefinition } from '../types.js';

export interface StepContextDeps {
  topologyName: string;
  partition: number;
  metrics: RuntimeMetrics;
  producer: Producer;
  transport: Transport;
  /** The task's open store called `name`, if the topology declares it. */
  store(name: string): KeyValueStore | undefined;
  deadLetter(stepName: string, meta: RecordMeta, error: unknown): void;
  now(): number;
}

/**
 * Creates the StepContext each step of one task gets, and keeps what those contexts gather for
 * the task: batched metric counts, the beforeCommit hooks, and the task's scoped values.
 */
export class StepContextFactory {
  private readonly scope = new TaskScope();
  /** One per step context: moves the counts gathered since the last call into the counters. */
  private readonly countFlushes: (() => void)[] = [];
  /** Registered by steps through ctx.beforeCommit: in-memory writes put into stores at commit. */
  private readonly beforeCommitHooks: (() => Promise<void>)[] = [];
  /** Registered through ctx.commitAfter since the last commit: what its changelogs wait for. */
  private commitWaits: Promise<void>[] = [];

  constructor(private readonly deps: StepContextDeps) {}

  /** Moves the counts steps gathered into their counters (once per batch and at commit). */
  flushCounts(): void {
    for (const flush of this.countFlushes) flush();
  }

  /**
   * Runs the steps' beforeCommit hooks in registration order and returns what the commit's
   * changelogs must wait for (ctx.commitAfter).
   */
  async beforeCommit(): Promise<Promise<void>[]> {
    for (const hook of this.beforeCommitHooks) await hook();
    const waits = this.commitWaits;
    this.commitWaits = [];
    return waits;
  }

  contextFor(step: StepDefinition<unknown, unknown>): StepContext {
    const { topologyName, partition, metrics, producer, transport } = this.deps;
    const labels = { topology: topologyName, step: step.name, partition: String(partition) };
    const owned = new Set((step.stores ?? []).map((s) => s.name));
    // Counts gather here and reach the counters once per batch (flushCounts): prom-client hashes
    // the label set on every inc, even on a bound child, and steps count per record.
    const counters = new Map<string, { child: { inc(value: number): void }; pending: number }>();
    this.countFlushes.push(() => {
      for (const counter of counters.values()) {
        if (counter.pending === 0) continue;
        counter.child.inc(counter.pending);
        counter.pending = 0;
      }
    });
    const gauges = new Map<string, { set(value: number): void }>();
    const ctx: StepContext = {
      topology: topologyName,
      step: step.name,
      partition,
      store: (name) => {
        const store = this.deps.store(name);
        if (!store || !owned.has(name)) {
          throw new AgentrecError('TOPOLOGY_INVALID', `store '${name}' is not declared by this step`, { step: step.name });
        }
        return store;
      },
      deadLetter: (meta, error) => this.deps.deadLetter(step.name, meta, error),
      now: () => this.deps.now(),
      metrics: {
        count: (event, value = 1) => {
          let counter = counters.get(event);
          if (!counter) counters.set(event, (counter = { child: metrics.stepEvents.labels({ ...labels, event }), pending: 0 }));
          counter.pending += value;
        },
        gauge: (name, value, across) => {
          if (across === 'sum') metrics.summedStepValues.add(name);
          let child = gauges.get(name);
          if (!child) gauges.set(name, (child = metrics.stepValue.labels({ ...labels, name })));
          child.set(value);
        },
      },
      scoped: (key) => this.scope.get(key, ctx),
      beforeCommit: (fn) => void this.beforeCommitHooks.push(fn),
      commitAfter: (delivered) => {
        // Awaited by the commit; handled here too, since it may reject before the commit gets to it.
        delivered.catch(() => undefined);
        this.commitWaits.push(delivered);
      },
      log: {
        produce: (records) => producer.send(records),
        readToEnd: (tp, from) => (transport.readToEndReused ? transport.readToEndReused(tp, from) : transport.readToEnd(tp, from)),
      },
    };
    return ctx;
  }
}
