import type { OperatorFunction } from 'rxjs';
import type { KeyValueStore } from '../state/store.js';
import type { Serde } from '../serde/serde.js';
import type { ScopeKey } from './task-scope.js';
import type { OutputRecord, SourceRecord, TopicPartition } from './transport/types.js';

/** Where a record came from. Every value flowing through a topology carries its origin. */
export interface RecordMeta {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  /** The record key as a string (agentrec keys by user id). */
  key: string | null;
}

export interface Envelope<T> {
  meta: RecordMeta;
  value: T;
}

/**
 * A micro-batch of one partition: what one poll returned. Operators see batches (batch costs)
 * but keep per-record semantics. Contract: every step emits exactly one output batch per
 * input batch, in order (records may be dropped, added or transformed inside it), so the
 * runtime knows when a batch is done and can commit its offsets.
 */
export interface Batch<T> {
  partition: number;
  records: Envelope<T>[];
}

/** What a store-using step declares; the runtime opens one store per task (partition). */
export interface StoreSpec {
  /** Unique within the topology; names the state directory and the changelog topic. */
  name: string;
  /** Whether every flush is published to a compacted changelog topic (default true). */
  changelog?: boolean;
  /**
   * The most write-back cache this store can put to use, bytes: for stores whose working set is
   * known to be small (per-session state), so a larger `cacheBytes` for the others does not go to
   * them. The store's cache is the smaller of this and the runtime's `cacheBytes`.
   */
  maxCacheBytes?: number;
}

export interface StepMetricsSink {
  /** Rows created / expired / filtered and other step-specific counts. */
  count(name: string, value?: number): void;
  /**
   * Step-specific gauges, e.g. the running training loss. Prometheus gets each partition's value;
   * `across` says how the progress line combines partitions: 'mean' (default: a loss, a rate) or
   * 'sum' (a count: updates applied, requests stored).
   */
  gauge(name: string, value: number, across?: 'mean' | 'sum'): void;
}

/** Everything a step may touch at run time. Created per task (= per partition). */
export interface StepContext {
  readonly topology: string;
  readonly step: string;
  readonly partition: number;
  /** Stores this step declared in `stores`. */
  store(name: string): KeyValueStore;
  /** Sends a record that this step cannot process to the dead-letter topic; the task keeps running. */
  deadLetter(meta: RecordMeta, error: unknown): void;
  /** Milliseconds since the epoch; the test driver controls it. */
  now(): number;
  readonly metrics: StepMetricsSink;
  /**
   * The task's value for `key`, created by `key.create(ctx)` on the first call of any step of
   * this task: how cooperating steps (one model's lookup, score and learn) share state.
   */
  scoped<T>(key: ScopeKey<T>): T;
  /**
   * Runs `fn` at each commit of this task, after its last batch and before its stores flush: a
   * step that keeps writes in memory across batches (the row store's resident rows) puts them
   * into its stores here, so they are made durable with the offset they belong to. Hooks run in
   * registration order; one that throws fails the commit (nothing is flushed).
   */
  beforeCommit(fn: () => Promise<void>): void;
  /**
   * Makes this task's next commit wait for `delivered` (sends through `log` whose records the
   * state being committed assumes delivered, e.g. model sync's) before any changelog goes out,
   * without holding the task meanwhile; call it from a beforeCommit hook. If it rejects, the
   * commit fails and nothing is flushed.
   */
  commitAfter(delivered: Promise<void>): void;
  /**
   * Direct access to the log for steps that exchange data with other tasks (model sync).
   * Records produced here are not tied to the batch's commit: use only for idempotent data.
   */
  readonly log?: {
    produce(records: OutputRecord[]): Promise<void>;
    readToEnd(partition: TopicPartition, fromOffset?: number): AsyncIterable<SourceRecord[]>;
  };
}

/**
 * Membership of a step in a group of cooperating steps that must appear in one order, each once
 * (a model's lookup, score and learn): the builder checks every group when the topology is built.
 */
export interface StepProtocol {
  /** Names the group in errors, e.g. `model 'rec'`; steps with the same group belong together. */
  readonly group: string;
  /** This step's place in the group: one of `roles`. */
  readonly role: string;
  /** Every role of the group, in the order the steps must come. */
  readonly roles: readonly string[];
}

export interface StepDefinition<In, Out> {
  /** Explicit, unique, stable: names metrics labels, state directories, errors. Never generated. */
  readonly name: string;
  /** The operator kind (decode, encode, lookup, …), for describe() and metrics. */
  readonly kind: string;
  /** Plain-data options shown by describe(). */
  readonly options?: Readonly<Record<string, unknown>>;
  readonly stores?: readonly StoreSpec[];
  /** Topics this step writes besides the sink (e.g. a model topic), created with the topology. */
  readonly topics?: readonly { topic: string; partitions?: number; config?: Record<string, string> }[];
  readonly protocol?: StepProtocol;
  /** Called once per task; per-task state lives in the closure, never at module scope. */
  create(ctx: StepContext): OperatorFunction<Batch<In>, Batch<Out>>;
}

export type { Serde };
