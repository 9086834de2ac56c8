import { integerIn, nonEmptyString } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { DEFAULT_CACHE_BYTES } from '../../state/open-partition-state.js';

export interface RunnerConfig {
  /** Consumer group; instances with the same id split the partitions. Default: topology name. */
  groupId: string;
  /** Root of per-partition state directories. */
  stateDir: string;
  stateBackend: 'rocksdb' | 'memory';
  /** Write-back cache bound per store and partition, bytes. */
  cacheBytes: number;
  /**
   * How often outputs are awaited, state flushed and offsets committed. Every commit writes each
   * row changed since the last one (hot rows: every time), so commits cost CPU in proportion to
   * their number, while latency does not depend on it (bench/README.md, "Recommender end to
   * end"). After a crash, up to this much input is
   * processed again (state stays exact; outputs of that span are sent again).
   */
  commitIntervalMs: number;
  /**
   * Per-partition bound on output records sent but not acknowledged; above it the partition
   * pauses. Keep it well above one poll (5000 records by default): pausing a Kafka partition
   * drops its prefetched records, so a bound near the batch size makes consumption stutter
   * (bench/README.md, "Streaming core").
   */
  maxInFlightRecords: number;
  /**
   * Largest record (key + value) the runtime sends. A dead letter over it is cut to fit (the
   * reason gives the original size and a sha256), and a sink output over it is dead-lettered:
   * a record the log refuses would fail every commit, after every restart. Keep it at or below
   * the producer's message.max.bytes (librdkafka: 1,000,000) and the topics' max.message.bytes.
   */
  maxMessageBytes: number;
  /** Port for GET /metrics; undefined = no HTTP server. */
  metricsPort?: number;
  /**
   * Address the metrics server binds. Loopback by default: /metrics names topics and partitions,
   * so exposing it beyond the host is a choice (0.0.0.0), not an accident.
   */
  metricsHost: string;
  /** Node.js default process metrics in the registry. */
  processMetrics: boolean;
  /**
   * 'at-least-once': outputs are acknowledged before state and offsets are committed, so a crash
   * re-sends the outputs of the input processed since the last commit. 'exactly-once' (Kafka
   * only): a commit's outputs, changelog records and input offsets go in one Kafka transaction,
   * and state is written to RocksDB only after it committed (exactly-once-commit.ts).
   */
  processingGuarantee: ProcessingGuarantee;
  /**
   * exactly-once: the transactional id of this instance's producer. One that stays the same across
   * restarts (derived from --instance-id) fences the crashed incarnation and aborts its open
   * transaction at start; the default, `<groupId>-<random>`, leaves that transaction to the
   * broker's timeout, and readers of its partitions wait for it.
   */
  transactionalId?: string;
}

export const PROCESSING_GUARANTEES = ['at-least-once', 'exactly-once'] as const;
export type ProcessingGuarantee = (typeof PROCESSING_GUARANTEES)[number];

export const runnerDefaults: RunnerConfig = {
  groupId: '',
  stateDir: '.state',
  stateBackend: 'rocksdb',
  cacheBytes: DEFAULT_CACHE_BYTES,
  commitIntervalMs: 5000,
  maxInFlightRecords: 100_000,
  maxMessageBytes: 1_000_000,
  metricsPort: undefined,
  metricsHost: '127.0.0.1',
  processMetrics: false,
  processingGuarantee: 'at-least-once',
  transactionalId: undefined,
};

/** Room for a dead letter's own fields besides the payload it carries. */
const MIN_MESSAGE_BYTES = 16 * 1024;

/** Validated once, at construction; every error names its path under /runtime. */
export function resolveRunnerConfig(topologyName: string, input: Partial<RunnerConfig>): RunnerConfig {
  const config = { ...runnerDefaults, groupId: topologyName, ...stripUndefined(input) };
  if (typeof config.groupId !== 'string' || config.groupId.length === 0)
    throw new ConfigError('/runtime/groupId', 'must be a non-empty string');
  if (typeof config.stateDir !== 'string' || config.stateDir.length === 0)
    throw new ConfigError('/runtime/stateDir', 'must be a non-empty path');
  if (config.stateBackend !== 'rocksdb' && config.stateBackend !== 'memory')
    throw new ConfigError('/runtime/stateBackend', "must be 'rocksdb' or 'memory'");
  integerIn(config.cacheBytes, '/runtime/cacheBytes', { min: 1024 });
  integerIn(config.commitIntervalMs, '/runtime/commitIntervalMs', { min: 1 });
  integerIn(config.maxInFlightRecords, '/runtime/maxInFlightRecords', { min: 1 });
  integerIn(config.maxMessageBytes, '/runtime/maxMessageBytes', { min: MIN_MESSAGE_BYTES });
  if (config.metricsPort !== undefined) {
    const port = integerIn(config.metricsPort, '/runtime/metricsPort', { min: 0 });
    if (port > 65535) throw new ConfigError('/runtime/metricsPort', 'must be <= 65535');
  }
  nonEmptyString(config.metricsHost, '/runtime/metricsHost');
  if (!PROCESSING_GUARANTEES.includes(config.processingGuarantee)) {
    throw new ConfigError(
      '/runtime/processingGuarantee',
      `must be 'at-least-once' or 'exactly-once', got '${String(config.processingGuarantee)}'`,
    );
  }
  if (config.transactionalId !== undefined) nonEmptyString(config.transactionalId, '/runtime/transactionalId');
  return Object.freeze(config);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
