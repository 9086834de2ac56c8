import type { DeadLetterRecord } from '../../src/topology/runtime/dead-letter.js';
import { afterEach, describe, expect, it } from 'vitest';
import agentRecommender from '../../topologies/agent-recommender.js';
import { avroSerde } from '../../src/serde/avro-serde.js';
import type { ScoreRecord, TrajectoryEvent } from '../../src/recommender/records.js';
import { TopologyTestDriver, type TestDriverOptions } from '../../src/topology/test-driver.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import {
  HOUR,
  T0,
  changedKeys,
  decodeRow,
  describeKey,
  entryKey,
  feedbackEvent,
  partitionOf,
  payload,
  pipeEvents,
  requestEvent,
  snapshotStore,
  stepEvents,
  storeRecorder,
  storedRequest,
  trajectorySerde,
} from '../unit/recommender/recommender-harness.js';

const TOOLS = ['git', 'bash', 'python', 'sql', 'docker'];
const DOMAINS = ['web', 'data', 'infra'];
const ACTIONS = Array.from({ length: 12 }, (_, i) => `action-${i}`);
const DIM = 32;
// These tests look at single rows and stores byte by byte: model sync would also move other partitions' shared rows.
const UNSYNCED = { transport: 'embedded', settings: { syncEveryEvents: '0' } } as const;
const MODEL_DENSE = (partition: number) => entryKey(partition, 'model', 'dense');
/** The partition's history offsets (one per count bucket), learned by every feedback on a request that had them. */
const MODEL_HISTORY = (partition: number) => entryKey(partition, 'model', 'history');
/** The acceptance calibration: stepped by accept/reject feedback only. */
const MODEL_ACCEPTANCE = (partition: number) => entryKey(partition, 'model', 'acceptance');

/** Requests (and feedback for every other one) from many users, spread over every partition. */
function background(users: number): TrajectoryEvent[] {
  const events: TrajectoryEvent[] = [];
  for (let u = 0; u < users; u++) {
    const userId = `user-${u}`;
    const requestId = `bg-${u}`;
    const candidates = [0, 1, 2, 3, 4].map((k) => ACTIONS[(u * 3 + k * 5) % ACTIONS.length]);
    const time = T0 + u * 1000;
    events.push(
      requestEvent(userId, requestId, candidates, {
        tool: TOOLS[u % TOOLS.length],
        domain: DOMAINS[u % DOMAINS.length],
        eventTime: time,
        text: `task ${u} on the dashboard`,
      }),
    );
    if (u % 2 === 0)
      events.push(feedbackEvent(userId, requestId, { signal: 'CHOSEN', value: 1, actionId: candidates[u % 5] }, { eventTime: time + 500 }));
  }
  return events;
}

describe('agent-recommender: learning touches only the rows an event uses', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });
  const tempDir = tempDirs('agent-recommender');

  it.each([
    ['memory', async (): Promise<Partial<TestDriverOptions>> => ({ stateBackend: 'memory' })],
    ['rocksdb', async (): Promise<Partial<TestDriverOptions>> => ({ stateBackend: 'rocksdb', stateDir: await tempDir() })],
  ])(
    'one FEEDBACK changes its user, its request features and the candidates with a gradient; every other row is bit-identical (%s)',
    async (_backend, backendOptions) => {
      const recorder = storeRecorder();
      driver = await TopologyTestDriver.start(agentRecommender(UNSYNCED), { ...(await backendOptions()), openStore: recorder.openStore });
      const userA = 'user-7';
      pipeEvents(driver, background(40));
      await driver.settle();

      const partition = partitionOf(driver, userA);
      const before = await snapshotStore(recorder.stores, 'rec');
      const users = [...before.keys()].filter((k) => describeKey(k).namespace === 'user');
      expect(users).toHaveLength(40);
      expect(new Set(users.map((k) => describeKey(k).partition)).size).toBe(4);

      const request = await storedRequest(recorder, partition, 'bg-7');
      const accepted = request.candidates[2];
      pipeEvents(driver, [feedbackEvent(userA, 'bg-7', { signal: 'ACCEPT', value: 1, actionId: accepted }, { eventTime: T0 + 60_000 })]);
      await driver.settle();
      const after = await snapshotStore(recorder.stores, 'rec');

      const userKey = entryKey(partition, 'user', userA);
      const featureKeys = request.features.map((f) => entryKey(partition, 'feature', f.key));
      const candidateKeys = request.candidates.map((a) => entryKey(partition, 'action', a));
      // The scored request carried structured, crossed, session and text features; all must move.
      expect(request.features.map((f) => f.key)).toEqual(
        expect.arrayContaining(['tool=python', 'domain=data', 'tool=python×domain=data', 'turn=0']),
      );
      expect(request.features.some((f) => f.key.startsWith('text.text#'))).toBe(true);

      const changed = [...changedKeys(before, after)].sort();
      expect(changed.map(describeKey)).toEqual(
        [
          ...new Set([
            userKey,
            ...featureKeys,
            ...candidateKeys,
            MODEL_DENSE(partition),
            MODEL_HISTORY(partition),
            MODEL_ACCEPTANCE(partition),
          ]),
        ]
          .sort()
          .map(describeKey),
      );

      for (const key of [userKey, ...featureKeys, entryKey(partition, 'action', accepted)]) {
        expect(payload(after, key).equals(payload(before, key)), `${describeKey(key).id} moved`).toBe(false);
      }
      // A logistic loss on one candidate has no gradient for the others: their floats stay, only
      // the sighting count and last-touched time are written back.
      for (const actionId of request.candidates.filter((a) => a !== accepted)) {
        const key = entryKey(partition, 'action', actionId);
        expect(payload(after, key).equals(payload(before, key)), `${actionId} floats`).toBe(true);
        expect(decodeRow(after, key).seenCount).toBe(decodeRow(before, key).seenCount + 1);
        expect(decodeRow(after, key).lastTouchedMs).toBe(T0 + 60_000);
      }
      for (const key of users.filter((k) => k !== userKey))
        expect(after.get(key)!.equals(before.get(key)!), describeKey(key).id).toBe(true);
      expect(await stepEvents(driver, 'learn', 'feedback_applied')).toBe(21);
    },
  );
});

describe('agent-recommender: delayed feedback', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });

  it('joins feedback hours later to the features that were scored, falls back to user + action past the TTL, and ignores what it cannot join', async () => {
    const recorder = storeRecorder();
    driver = await TopologyTestDriver.start(agentRecommender(UNSYNCED), { openStore: recorder.openStore, startTime: T0 });
    const user = 'user-b';
    const partition = partitionOf(driver, user);
    const scored = requestEvent(user, 'req-1', ['x1', 'x2', 'x3'], {
      tool: 'bash',
      domain: 'data',
      repo: 'etl',
      text: 'explain the query',
      eventTime: T0,
    });
    // A later request of the same user with other context: feedback for req-1 must not use it.
    const later = requestEvent(user, 'req-2', ['x1', 'x4'], {
      tool: 'docker',
      domain: 'infra',
      repo: 'k8s-config',
      text: 'deploy the pipeline',
      eventTime: T0 + HOUR,
    });
    pipeEvents(driver, [scored, later]);
    await driver.settle();
    const scoredFeatures = (await storedRequest(recorder, partition, 'req-1')).features.map((f) => f.key);
    const laterOnly = (await storedRequest(recorder, partition, 'req-2')).features
      .map((f) => f.key)
      .filter((k) => !scoredFeatures.includes(k));
    expect(laterOnly).toEqual(expect.arrayContaining(['tool=docker', 'domain=infra']));

    driver.advanceTime(3 * HOUR);
    let before = await snapshotStore(recorder.stores, 'rec');
    pipeEvents(driver, [feedbackEvent(user, 'req-1', { signal: 'CHOSEN', value: 1, actionId: 'x2' }, { eventTime: T0 + 3 * HOUR })]);
    await driver.settle();
    let after = await snapshotStore(recorder.stores, 'rec');
    let changed = [...changedKeys(before, after)].map((k) => describeKey(k)).map((k) => `${k.namespace}:${k.id}`);
    expect(changed.sort()).toEqual(
      [
        'user:user-b',
        'model:dense',
        'model:history',
        'action:x1',
        'action:x2',
        'action:x3',
        ...scoredFeatures.map((f) => `feature:${f}`),
      ].sort(),
    );
    for (const key of laterOnly) expect(changed).not.toContain(`feature:${key}`);
    // Softmax over the candidates: every scored row gets a gradient, not just a new sighting count.
    const moved = (namespace: string, id: string) =>
      !payload(after, entryKey(partition, namespace, id)).equals(payload(before, entryKey(partition, namespace, id)));
    for (const [namespace, id] of [
      ['user', user],
      ['action', 'x1'],
      ['action', 'x2'],
      ['action', 'x3'],
      ...scoredFeatures.map((f) => ['feature', f]),
    ]) {
      expect(moved(namespace, id), `${namespace}:${id}`).toBe(true);
    }
    expect(await stepEvents(driver, 'learn', 'feedback_applied')).toBe(1);

    // Past the 6 h TTL: the request's features are no longer trusted; user and action only.
    const expiring = requestEvent(user, 'req-3', ['y1', 'y2'], {
      tool: 'sql',
      domain: 'ml',
      repo: 'trainer',
      text: 'profile the trainer',
      eventTime: T0 + 4 * HOUR,
    });
    pipeEvents(driver, [expiring]);
    await driver.settle();
    driver.advanceTime(8 * HOUR);
    before = await snapshotStore(recorder.stores, 'rec');
    pipeEvents(driver, [feedbackEvent(user, 'req-3', { signal: 'ACCEPT', value: 1, actionId: 'y1' }, { eventTime: T0 + 11 * HOUR })]);
    await driver.settle();
    after = await snapshotStore(recorder.stores, 'rec');
    changed = [...changedKeys(before, after)].map((k) => describeKey(k)).map((k) => `${k.namespace}:${k.id}`);
    // The fallback request has no history buckets: the offsets stay.
    expect(changed.sort()).toEqual(['action:y1', 'model:acceptance', 'model:dense', 'user:user-b']);
    expect(moved('user', user)).toBe(true);
    expect(moved('action', 'y1')).toBe(true);
    expect(await stepEvents(driver, 'learn', 'feedback_applied_without_request')).toBe(1);

    // Unknown request, or another user's request, and no action named: nothing to learn from.
    before = after;
    pipeEvents(driver, [
      feedbackEvent(user, 'req-unknown', { signal: 'LIKE', value: 1, actionId: null }, { eventTime: T0 + 11 * HOUR }),
      requestEvent('user-c', 'req-c', ['z1', 'z2'], { eventTime: T0 + 11 * HOUR }),
      feedbackEvent(user, 'req-c', { signal: 'LIKE', value: 1, actionId: null }, { eventTime: T0 + 11 * HOUR + 1 }),
    ]);
    await driver.settle();
    after = await snapshotStore(recorder.stores, 'rec');
    const changedByUnmatched = [...changedKeys(before, after)].filter((k) => describeKey(k).partition === partition).map(describeKey);
    // user-c's request may share user-b's partition: only its own scoring rows may appear.
    for (const k of changedByUnmatched) expect(`${k.namespace}:${k.id}`).not.toMatch(/^(user:user-b|action:y|action:x|model:dense)/);
    expect(await stepEvents(driver, 'lookup', 'feedback_unmatched')).toBe(2);
    const exposition = await driver.metrics.registry.getSingleMetricAsString('agentrec_step_events_total');
    const unmatchedLine = exposition
      .split('\n')
      .find((line) => line.includes('event="feedback_unmatched"') && line.includes('step="lookup"'));
    expect(unmatchedLine).toMatch(/ 2$/);
    expect(await stepEvents(driver, 'learn', 'feedback_applied')).toBe(1);
    expect(await stepEvents(driver, 'learn', 'feedback_applied_without_request')).toBe(1);
    expect(driver.readOutput()).toHaveLength(4);
  });
});

describe('agent-recommender: how many scored requests are kept', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });

  it('--set maxStoredRequests drops the oldest requests first: their feedback falls back to user + action, a recent one still joins its features', async () => {
    driver = await TopologyTestDriver.start(
      agentRecommender({ transport: 'embedded', settings: { maxStoredRequests: '100', syncEveryEvents: '0' } }),
    );
    const user = 'user-kept';
    const requests = Array.from({ length: 600 }, (_, i) => requestEvent(user, `kept-${i}`, ['k1', 'k2'], { eventTime: T0 + i * 1000 }));
    pipeEvents(driver, requests);
    await driver.settle();
    const evicted = await stepEvents(driver, 'learn', 'requests_evicted');
    // Whole chunks go (256 requests or 64 KiB): what stays is at most the bound plus the chunk being filled.
    expect(evicted).toBeGreaterThanOrEqual(600 - 100 - 256);
    expect(evicted).toBeLessThan(600);
    pipeEvents(driver, [
      feedbackEvent(user, 'kept-0', { signal: 'ACCEPT', value: 1, actionId: 'k1' }, { eventTime: T0 + 600_000 }),
      feedbackEvent(user, 'kept-599', { signal: 'ACCEPT', value: 1, actionId: 'k2' }, { eventTime: T0 + 600_001 }),
    ]);
    await driver.settle();
    expect(await stepEvents(driver, 'learn', 'feedback_applied_without_request')).toBe(1);
    expect(await stepEvents(driver, 'learn', 'feedback_applied')).toBe(1);
  });
});

describe('agent-recommender: output records', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });

  it('scores the first maxCandidates candidates of a longer request and counts the rest (--set maxCandidates)', async () => {
    driver = await TopologyTestDriver.start(agentRecommender({ ...UNSYNCED, settings: { ...UNSYNCED.settings, maxCandidates: '3' } }));
    pipeEvents(driver, [
      requestEvent('user-1', 'long', ACTIONS.slice(0, 5), { eventTime: T0 }),
      requestEvent('user-2', 'short', ACTIONS.slice(0, 2), { eventTime: T0 + 1 }),
    ]);
    await driver.settle();
    const out = driver.readOutput<ScoreRecord>();
    const long = out.find((r) => r.value.requestId === 'long')!.value;
    expect(long.candidates.map((c) => c.actionId).sort()).toEqual(ACTIONS.slice(0, 3).sort());
    expect(out.find((r) => r.value.requestId === 'short')!.value.candidates).toHaveLength(2);
    expect(await stepEvents(driver, 'lookup', 'request_candidates_dropped')).toBe(2);
    expect(() => agentRecommender({ transport: 'embedded', settings: { maxCandidates: '0' } })).toThrow(/\/settings\/maxCandidates/);
  });

  it('emits one score record per REQUEST with every candidate ranked by score and the user embedding; FEEDBACK emits nothing; invalid events are dead-lettered by decode', async () => {
    const recorder = storeRecorder();
    const t = agentRecommender(UNSYNCED);
    driver = await TopologyTestDriver.start(t, { openStore: recorder.openStore });
    const requests = Array.from({ length: 12 }, (_, i) =>
      requestEvent(`user-${i % 5}`, `r-${i}`, ACTIONS.slice(i % 4, (i % 4) + 2 + (i % 7)), {
        tool: TOOLS[i % TOOLS.length],
        eventTime: T0 + i * 1000,
      }),
    );
    const feedback = requests
      .slice(0, 6)
      .map((r, i) =>
        feedbackEvent(
          r.userId,
          r.requestId!,
          { signal: 'CHOSEN', value: 1, actionId: r.candidates[0].actionId },
          { eventTime: T0 + 20_000 + i },
        ),
      );
    const noCandidates = requestEvent('user-1', 'bad-1', [], { eventTime: T0 + 30_000 });
    const noFeedback = {
      ...feedbackEvent('user-2', 'r-2', { signal: 'LIKE', value: 1, actionId: null }, { eventTime: T0 + 30_001 }),
      feedback: null,
    };
    pipeEvents(driver, requests);
    await driver.settle();
    // Fresh users' rows are untouched until their first feedback: the emitted embedding must be their stored row.
    const firstRows = await snapshotStore(recorder.stores, 'rec');
    pipeEvents(driver, feedback);
    const badOffsets = [noCandidates, noFeedback].map((e) => driver!.pipeInput(e.userId, trajectorySerde.serialize(e)).offset);
    await driver.settle();

    const out = driver.readOutput<ScoreRecord>();
    expect(out).toHaveLength(requests.length);
    const seenEmbedding = new Set<string>();
    for (const request of requests) {
      const records = out.filter((r) => r.value.requestId === request.requestId);
      expect(records).toHaveLength(1);
      const [{ key, value, partition }] = records;
      expect(key).toBe(request.userId);
      expect(value.userId).toBe(request.userId);
      expect(value.eventTime).toBe(request.eventTime);
      expect(value.modelVersion).toMatch(new RegExp(`^fm-d${DIM}/p${partition}/u\\d+$`));
      expect(value.candidates.map((c) => c.actionId).sort()).toEqual(request.candidates.map((c) => c.actionId).sort());
      expect(value.candidates.map((c) => c.rank)).toEqual(request.candidates.map((_, i) => i + 1));
      for (let i = 1; i < value.candidates.length; i++)
        expect(value.candidates[i].score).toBeLessThanOrEqual(value.candidates[i - 1].score);
      expect(value.candidates.every((c) => Number.isFinite(c.score))).toBe(true);
      expect(value.userEmbedding).toHaveLength(DIM);
      if (!seenEmbedding.has(request.userId)) {
        seenEmbedding.add(request.userId);
        const row = decodeRow(firstRows, entryKey(partition, 'user', request.userId));
        expect(value.userEmbedding).toEqual(Array.from(row.data!.subarray(0, DIM)));
      }
    }
    // Scores differ between candidates (a model, not a constant), so the ranking carries information.
    expect(new Set(out.flatMap((r) => r.value.candidates.map((c) => c.score))).size).toBeGreaterThan(10);

    const dead = driver.readTopic(t.deadLetterTopic).map((r) => avroSerde<DeadLetterRecord>('dead-letter').deserialize(r.value!));
    expect(dead).toHaveLength(2);
    const [first, second] = [noCandidates, noFeedback].map((e) =>
      dead.find((d) => trajectorySerde.deserialize(d.value!).eventId === e.eventId)!,
    );
    expect(first).toMatchObject({
      step: 'decode',
      errorCode: 'VALIDATION_FAILED',
      sourceOffset: badOffsets[0],
      key: Buffer.from('user-1'),
    });
    expect(second).toMatchObject({
      step: 'decode',
      errorCode: 'VALIDATION_FAILED',
      sourceOffset: badOffsets[1],
      key: Buffer.from('user-2'),
    });
    expect(first.reason).toContain("field 'candidates'");
    expect(second.reason).toContain("field 'feedback'");
    expect(await stepEvents(driver, 'learn', 'feedback_applied')).toBe(feedback.length);
  });
});
