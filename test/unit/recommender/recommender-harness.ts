/**
 * Shared helpers for the recommender topology tests: building Avro trajectory events, reaching
 * the partition stores the runner opened (through its openStore hook, the same stores the steps
 * use) and reading step metrics. Not a test file itself.
 */
import { RequestChunkView } from '../../../src/recommender/requests/request-chunk-codec.js';
import { decodeRequestSnapshot } from '../../../src/recommender/requests/request-snapshot-codec.js';
import type { RequestSnapshot } from '../../../src/recommender/types.js';
import { decodeRecord, type DecodedRecord } from '../../../src/recommender/rows/embedding-row-codec.js';
import { parseRowKey, rowKey } from '../../../src/recommender/rows/row-key.js';
import type { KeyValueStore } from '../../../src/state/store.js';
import { avroSerde } from '../../../src/serde/avro-serde.js';
import type { Candidate, Feedback, TrajectoryEvent } from '../../../src/recommender/records.js';
import { openTaskStore } from '../../../src/topology/runtime/open-task-store.js';
import { partitionForKey } from '../../../src/topology/transport/murmur2.js';
import type { RunnerOptions } from '../../../src/topology/runtime/topology-runner.js';
import type { TopologyTestDriver } from '../../../src/topology/test-driver.js';
import type { StepContext } from '../../../src/topology/types.js';

export const trajectorySerde = avroSerde<TrajectoryEvent>('trajectory-event');

export const T0 = Date.UTC(2026, 2, 2, 13, 30);
export const HOUR = 3600_000;

export function requestEvent(
  userId: string,
  requestId: string,
  candidates: string[],
  overrides: Partial<TrajectoryEvent> = {},
): TrajectoryEvent {
  return {
    eventId: `${requestId}/request`,
    kind: 'REQUEST',
    userId,
    sessionId: `session-${userId}`,
    eventTime: T0,
    requestId,
    tool: 'git',
    domain: 'web',
    repo: 'api-server',
    errorType: null,
    agent: 'coder',
    text: 'fix the failing build',
    code: null,
    candidates: candidates.map((actionId): Candidate => ({ actionId, tool: null, text: null })),
    feedback: null,
    source: 'REAL',
    attributes: {},
    ...overrides,
  };
}

export function feedbackEvent(
  userId: string,
  requestId: string,
  feedback: Feedback,
  overrides: Partial<TrajectoryEvent> = {},
): TrajectoryEvent {
  return {
    eventId: `${requestId}/feedback/${feedback.signal}/${feedback.actionId ?? '-'}`,
    kind: 'FEEDBACK',
    userId,
    sessionId: `session-${userId}`,
    eventTime: T0,
    requestId,
    tool: null,
    domain: null,
    repo: null,
    errorType: null,
    agent: null,
    text: null,
    code: null,
    candidates: [],
    feedback,
    source: 'REAL',
    attributes: {},
    ...overrides,
  };
}

/** Pipes events keyed by user, as a producer of agent.trajectories would. */
export function pipeEvents(driver: TopologyTestDriver, events: readonly TrajectoryEvent[]): void {
  for (const event of events) driver.pipeInput(event.userId, trajectorySerde.serialize(event), { timestamp: event.eventTime });
}

/**
 * An openStore hook that opens stores exactly as the runtime does and remembers them under
 * `${store}/${partition}`, so tests can read the bytes the steps wrote.
 */
export function storeRecorder(): { openStore: NonNullable<RunnerOptions['openStore']>; stores: Map<string, KeyValueStore> } {
  const stores = new Map<string, KeyValueStore>();
  return {
    stores,
    openStore: async (topology, storeName, partition, config) => {
      const store = await openTaskStore(topology, storeName, partition, config);
      stores.set(`${storeName}/${partition}`, store);
      return store;
    },
  };
}

/**
 * A request as the recommender stored it in partition `partition` of its requests store
 * (`rec-requests`): the latest copy, for an id stored twice, read from the store's chunks.
 */
export async function storedRequest(
  recorder: ReturnType<typeof storeRecorder>,
  partition: number,
  requestId: string,
): Promise<RequestSnapshot> {
  let found: RequestSnapshot | undefined;
  for await (const [, value] of recorder.stores.get(`rec-requests/${partition}`)!.range()) {
    const chunk = new RequestChunkView(value, 'rec-requests');
    for (let i = 0; i < chunk.count; i++) {
      const request = decodeRequestSnapshot(chunk.entry(i));
      if (request.requestId === requestId) found = request;
    }
  }
  if (!found) throw new Error(`request ${requestId} was not stored in partition ${partition}`);
  return found;
}

/** Every entry of one store (name = the StoreSpec name) across partitions, keyed `${partition}|${latin1 key}`, bytes copied. */
export async function snapshotStore(stores: Map<string, KeyValueStore>, storeName: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [name, store] of stores) {
    const [owner, partition] = name.split('/');
    if (owner !== storeName) continue;
    for await (const [key, value] of store.range()) out.set(`${partition}|${key.toString('latin1')}`, Buffer.from(value));
  }
  return out;
}

export function entryKey(partition: number, namespace: string, id: string): string {
  return `${partition}|${rowKey(namespace, id).toString('latin1')}`;
}

/** Namespace and id of a snapshot key. */
export function describeKey(key: string): { partition: number; namespace: string; id: string } {
  const bar = key.indexOf('|');
  const parsed = parseRowKey(Buffer.from(key.slice(bar + 1), 'latin1'));
  return { partition: Number(key.slice(0, bar)), namespace: parsed?.namespace ?? '?', id: parsed?.id ?? key.slice(bar + 1) };
}

export function decodeRow(snapshot: Map<string, Buffer>, key: string): DecodedRecord {
  const bytes = snapshot.get(key);
  if (!bytes) throw new Error(`no entry ${JSON.stringify(describeKey(key))}`);
  return decodeRecord(bytes, Buffer.from(key.slice(key.indexOf('|') + 1), 'latin1'));
}

/** Keys whose bytes differ between two snapshots (added and deleted keys included). */
export function changedKeys(before: Map<string, Buffer>, after: Map<string, Buffer>): Set<string> {
  const changed = new Set<string>();
  for (const [key, value] of after) if (!before.get(key)?.equals(value)) changed.add(key);
  for (const key of before.keys()) if (!after.has(key)) changed.add(key);
  return changed;
}

/** The float payload (values + optimizer slots) of a row, without its header (seenCount, last touched). */
export function payload(snapshot: Map<string, Buffer>, key: string): Buffer {
  return snapshot.get(key)!.subarray(16);
}

/** Sum over partitions of agentrec_step_events_total{step, event}. */
export async function stepEvents(driver: TopologyTestDriver, step: string, event: string): Promise<number> {
  const metric = driver.metrics.stepEvents;
  const { values } = await metric.get();
  return values.filter((v) => v.labels.step === step && v.labels.event === event).reduce((sum, v) => sum + v.value, 0);
}

/** The partition the embedded log (Kafka's partitioner) puts a user on. */
export function partitionOf(driver: TopologyTestDriver, userId: string): number {
  return partitionForKey(Buffer.from(userId), driver.topology.source.partitions);
}

/**
 * A step context for running one keyed-state step alone: its one store (the name is checked),
 * metric counts into `counts`, and no dead letters, scope or commit hooks.
 */
export function singleStoreContext(step: string, storeName: string, store: KeyValueStore, counts = new Map<string, number>()): StepContext {
  return {
    topology: 't',
    step,
    partition: 0,
    store: (name: string) => {
      if (name !== storeName) throw new Error(`step '${step}' asked for store '${name}', expected '${storeName}'`);
      return store;
    },
    deadLetter: () => {
      throw new Error('no dead letters expected');
    },
    now: () => T0,
    metrics: { count: (name: string, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value), gauge: () => undefined },
    scoped: () => {
      throw new Error('not used');
    },
    beforeCommit: () => undefined,
  } as unknown as StepContext;
}
