import { numberIn } from '../../config.js';
import { ConfigError } from '../../errors.js';

/** How a published delta is weighted (the same weight everywhere, its publisher included). */
export type ModelSyncWeighting = 'average' | 'sum';

/** Whether a shared row's sparse optimizer slots are reconciled with its values. */
export type ModelSyncOptimizerState = 'local' | 'shared';

export interface ModelSyncOptions {
  /** The model topic, `<topology>.<model>.model` by convention (see modelTopicName); 1 partition, compacted. */
  topic: string;
  /** Sync after every this many feedback updates of the task (event-count based); 0 = sync disabled. */
  everyEvents: number;
  /**
   * And no sooner than this many ms (wall clock) after the task's last sync. Default 0. A sync
   * writes the task's rows back and reads the model topic, so on a live stream of small batches
   * syncing every batch costs most of the throughput; once a second keeps most of the learning.
   */
  minIntervalMs?: number;
  /**
   * 'average' (default): a delta is applied with weight 1/n, n = this task plus the peers it heard
   * from in its last `peerWindowSyncs` syncs — model averaging. 'sum': weight 1, every task's
   * learning is applied in full everywhere — asynchronous SGD on a replicated parameter server.
   */
  weighting?: ModelSyncWeighting;
  /** How many of its own syncs a peer stays counted in n after its last delta. Default 10. */
  peerWindowSyncs?: number;
  /**
   * 'local' (default): each task keeps its own sparse optimizer state (AdaGrad accumulators, FTRL
   * z and n). 'shared': a shared row's optimizer slots travel with its values, with the same
   * weight, so with 'sum' every task's accumulators count every task's gradients and its steps
   * shrink as a single task's would.
   */
  optimizerState?: ModelSyncOptimizerState;
  /** Row namespaces that are shared (replicated and reconciled). Default ['feature', 'action']; never 'user'. */
  namespaces?: readonly string[];
  /** Whether the dense weights (bias, projection, DCN/MLP) are shared. Default true. */
  dense?: boolean;
  /**
   * Kafka min.compaction.lag.ms of the model topic: a task that falls less far behind than this
   * never misses an increment to compaction. Default 7 days.
   */
  compactionLagMs?: number;
  /** Identifies this task incarnation in the topic; default `<random uuid>/p<partition>`. Must be unique per incarnation. */
  taskId?: string;
}

export interface ResolvedModelSyncConfig {
  readonly topic: string;
  readonly everyEvents: number;
  readonly minIntervalMs: number;
  readonly weighting: ModelSyncWeighting;
  readonly peerWindowSyncs: number;
  readonly optimizerState: ModelSyncOptimizerState;
  readonly namespaces: ReadonlySet<string>;
  readonly dense: boolean;
  readonly compactionLagMs: number;
  readonly taskId?: string;
}

const TOPIC = /^[a-z0-9._-]{1,249}$/i;

/** `<topology>.<model>.model`: one model topic per model of a topology. */
export function modelTopicName(topologyName: string, modelName: string): string {
  return `${topologyName}.${modelName}.model`;
}

/** Validates once, at construction; errors name the JSON pointer under `path`. */
export function resolveModelSyncConfig(options: ModelSyncOptions, path = '/sync'): ResolvedModelSyncConfig {
  if (typeof options !== 'object' || options === null) throw new ConfigError(path, 'must be an object');
  if (typeof options.topic !== 'string' || !TOPIC.test(options.topic)) {
    throw new ConfigError(
      `${path}/topic`,
      `must be a topic name of letters, digits, '.', '_' or '-', got ${JSON.stringify(options.topic)}`,
    );
  }
  const everyEvents = options.everyEvents;
  if (typeof everyEvents !== 'number' || !Number.isInteger(everyEvents) || everyEvents < 0) {
    throw new ConfigError(`${path}/everyEvents`, `must be an integer >= 0 (0 = disabled), got ${String(everyEvents)}`);
  }
  const weighting = options.weighting ?? 'average';
  if (weighting !== 'average' && weighting !== 'sum')
    throw new ConfigError(`${path}/weighting`, `must be 'average' or 'sum', got ${JSON.stringify(weighting)}`);
  const peerWindowSyncs = options.peerWindowSyncs ?? 10;
  if (!Number.isInteger(peerWindowSyncs) || peerWindowSyncs < 1)
    throw new ConfigError(`${path}/peerWindowSyncs`, `must be an integer >= 1, got ${String(peerWindowSyncs)}`);
  const optimizerState = options.optimizerState ?? 'local';
  if (optimizerState !== 'local' && optimizerState !== 'shared')
    throw new ConfigError(`${path}/optimizerState`, `must be 'local' or 'shared', got ${JSON.stringify(optimizerState)}`);
  const namespaces = options.namespaces ?? ['feature', 'action'];
  if (!Array.isArray(namespaces)) throw new ConfigError(`${path}/namespaces`, 'must be an array of row namespaces');
  namespaces.forEach((namespace, i) => {
    if (typeof namespace !== 'string' || namespace.length === 0 || namespace.includes('\u0000')) {
      throw new ConfigError(`${path}/namespaces/${i}`, `must be a non-empty namespace free of NUL, got ${JSON.stringify(namespace)}`);
    }
    // User rows belong to one partition (partitioned by user); averaging them would mix users.
    if (namespace === 'user') throw new ConfigError(`${path}/namespaces/${i}`, "'user' rows are owned by one task and are never shared");
  });
  const compactionLagMs = options.compactionLagMs ?? 7 * 24 * 3600_000;
  if (!Number.isInteger(compactionLagMs) || compactionLagMs < 0)
    throw new ConfigError(`${path}/compactionLagMs`, `must be an integer >= 0, got ${String(compactionLagMs)}`);
  if (options.taskId !== undefined && (typeof options.taskId !== 'string' || options.taskId.length === 0)) {
    throw new ConfigError(`${path}/taskId`, 'must be a non-empty string');
  }
  return Object.freeze({
    topic: options.topic,
    everyEvents,
    minIntervalMs: numberIn(options.minIntervalMs, `${path}/minIntervalMs`, { min: 0, max: 86_400_000, fallback: 0 }),
    weighting,
    peerWindowSyncs,
    optimizerState,
    namespaces: new Set(namespaces),
    dense: options.dense ?? true,
    compactionLagMs,
    taskId: options.taskId,
  });
}

/** The model topic as a step declares it in StepDefinition.topics (created with the topology). */
export function modelSyncTopicSpec(config: ResolvedModelSyncConfig): { topic: string; partitions: number; config: Record<string, string> } {
  return {
    topic: config.topic,
    partitions: 1,
    config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(config.compactionLagMs) },
  };
}
