import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoreMemory } from './state/store.js';

/** One store's memory, as a task reports it. */
export interface StoreMemoryReport {
  topology: string;
  store: string;
  partition: number;
  memory: StoreMemory;
}

/**
 * The runtime's Prometheus metrics. One registry per runner, so two topologies in one process
 * (or two runners in one test) never share counters. Label design: every series carries
 * `topology`; per-step series add `step`; per-task series add `partition` (a string, as
 * Prometheus labels are). Units are base units (seconds, bytes); counters end in `_total`.
 */
export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly recordsIn: Counter<'topology' | 'step' | 'partition'>;
  readonly recordsOut: Counter<'topology' | 'step' | 'partition'>;
  readonly deadLettered: Counter<'topology' | 'step' | 'partition' | 'code'>;
  readonly stepDuration: Histogram<'topology' | 'step'>;
  readonly stepEvents: Counter<'topology' | 'step' | 'partition' | 'event'>;
  readonly stepValue: Gauge<'topology' | 'step' | 'partition' | 'name'>;
  /** Step gauges the progress line sums across partitions instead of averaging (StepMetricsSink.gauge). */
  readonly summedStepValues = new Set<string>();
  readonly commitDuration: Histogram<'topology'>;
  readonly commits: Counter<'topology' | 'partition'>;
  readonly inFlight: Gauge<'topology' | 'partition'>;
  readonly paused: Gauge<'topology' | 'partition'>;
  readonly skippedReplayed: Counter<'topology' | 'partition'>;
  readonly restoreDuration: Gauge<'topology' | 'store' | 'partition'>;
  readonly restoredRows: Counter<'topology' | 'store' | 'partition'>;
  readonly assignedPartitions: Gauge<'topology'>;
  readonly brokerUp: Gauge<'topology'>;
  readonly brokerDisconnects: Counter<'topology'>;
  readonly ready: Gauge<'topology'>;
  readonly referenceValue: Gauge<'metric' | 'reference'>;
  readonly stateMemory: Gauge<'topology' | 'store' | 'partition' | 'part'>;
  /** What stateMemory reports at each scrape: set by the runner, which knows the open stores. */
  stateMemorySource: () => StoreMemoryReport[] = () => [];
  /** The latest reference value per step gauge name (setReference), for the progress line. */
  readonly references = new Map<string, { reference: string; value: number; better: 'higher' | 'lower' }>();

  /**
   * A counter summed over partitions (and codes): all series of one step, or every series when
   * `step` is undefined. What progress lines and benchmarks read to know how far a run got.
   */
  async total(counter: 'recordsIn' | 'recordsOut' | 'deadLettered', step?: string): Promise<number> {
    const { values } = await this[counter].get();
    return values.filter((v) => step === undefined || v.labels.step === step).reduce((sum, v) => sum + v.value, 0);
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'agentrec_process_' });
    this.recordsIn = new Counter({
      name: 'agentrec_records_in_total',
      help: 'Records entering a step',
      labelNames: ['topology', 'step', 'partition'],
      registers,
    });
    this.recordsOut = new Counter({
      name: 'agentrec_records_out_total',
      help: 'Records leaving a step',
      labelNames: ['topology', 'step', 'partition'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'agentrec_records_dead_lettered_total',
      help: 'Records sent to the dead-letter topic, by the step that rejected them and the error code',
      labelNames: ['topology', 'step', 'partition', 'code'],
      registers,
    });
    this.stepDuration = new Histogram({
      name: 'agentrec_step_batch_duration_seconds',
      help: 'Time a micro-batch spends in one step',
      labelNames: ['topology', 'step'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.stepEvents = new Counter({
      name: 'agentrec_step_events_total',
      help: 'Step-specific events (rows created, updates applied, cache hits…)',
      labelNames: ['topology', 'step', 'partition', 'event'],
      registers,
    });
    this.stepValue = new Gauge({
      name: 'agentrec_step_value',
      help: 'Step-specific gauges (running loss, model version…)',
      labelNames: ['topology', 'step', 'partition', 'name'],
      registers,
    });
    this.commitDuration = new Histogram({
      name: 'agentrec_commit_duration_seconds',
      help: 'Await outputs + flush state + changelog + offset commit',
      labelNames: ['topology'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.commits = new Counter({
      name: 'agentrec_commits_total',
      help: 'Offset commits per partition',
      labelNames: ['topology', 'partition'],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'agentrec_in_flight_records',
      help: 'Output records sent but not yet acknowledged',
      labelNames: ['topology', 'partition'],
      registers,
    });
    this.paused = new Gauge({
      name: 'agentrec_partition_paused',
      help: '1 while backpressure pauses the partition',
      labelNames: ['topology', 'partition'],
      registers,
    });
    this.skippedReplayed = new Counter({
      name: 'agentrec_records_skipped_already_applied_total',
      help: 'Redelivered records skipped because local state already contains their effects',
      labelNames: ['topology', 'partition'],
      registers,
    });
    this.restoreDuration = new Gauge({
      name: 'agentrec_state_restore_seconds',
      help: 'Duration of the last changelog restore',
      labelNames: ['topology', 'store', 'partition'],
      registers,
    });
    this.restoredRows = new Counter({
      name: 'agentrec_state_restored_entries_total',
      help: 'Entries restored from changelog topics',
      labelNames: ['topology', 'store', 'partition'],
      registers,
    });
    this.assignedPartitions = new Gauge({
      name: 'agentrec_assigned_partitions',
      help: 'Partitions (tasks) this instance owns',
      labelNames: ['topology'],
      registers,
    });
    this.brokerUp = new Gauge({
      name: 'agentrec_broker_up',
      help: '1 while some Kafka broker answers this instance, 0 while none does',
      labelNames: ['topology'],
      registers,
    });
    this.brokerDisconnects = new Counter({
      name: 'agentrec_broker_disconnects_total',
      help: 'Times this instance lost every broker connection',
      labelNames: ['topology'],
      registers,
    });
    this.ready = new Gauge({
      name: 'agentrec_ready',
      help: '1 while /readyz answers ready: broker reachable, group stable, no restore in progress',
      labelNames: ['topology'],
      registers,
    });
    const reports = (): StoreMemoryReport[] => this.stateMemorySource();
    this.stateMemory = new Gauge({
      name: 'agentrec_state_memory_bytes',
      help: 'Memory a state store holds now, by part: the write-back cache, RocksDB memtables, table readers (index and filter blocks), block cache, and writes buffered until the next commit',
      labelNames: ['topology', 'store', 'partition', 'part'],
      registers,
      collect() {
        this.reset();
        for (const { topology, store, partition, memory } of reports()) {
          for (const [part, bytes] of Object.entries(memory)) this.set({ topology, store, partition: String(partition), part }, bytes);
        }
      },
    });
    this.referenceValue = new Gauge({
      name: 'agentrec_reference_value',
      help: 'What a reference predictor (a baseline the simulation runs) scores on a step gauge, e.g. hit_at_1',
      labelNames: ['metric', 'reference'],
      registers,
    });
  }

  /**
   * A reference for step gauge `metric`: what `reference` (say, the best baseline) scores on the
   * same measure, shown beside the gauge on the progress line; `better` says which way is ahead
   * ('lower' for errors). A new reference name replaces the old.
   */
  setReference(metric: string, reference: string, value: number, better: 'higher' | 'lower' = 'higher'): void {
    const previous = this.references.get(metric);
    if (previous && previous.reference !== reference) this.referenceValue.remove({ metric, reference: previous.reference });
    this.references.set(metric, { reference, value, better });
    this.referenceValue.set({ metric, reference }, value);
  }
}
