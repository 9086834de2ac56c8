import { firstValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { actionHistory, type ActionHistoryOptions } from '../../../../src/recommender/steps/action-history.js';
import type { TrajectoryEvent } from '../../../../src/recommender/records.js';
import type { EncodedEvent } from '../../../../src/recommender/types.js';
import { MemoryStore } from '../../../../src/state/memory-store.js';
import type { Batch } from '../../../../src/topology/types.js';
import { HOUR, T0, feedbackEvent, requestEvent, singleStoreContext } from '../recommender-harness.js';

const request = (user: string, id: string, at = T0) => ({ ...requestEvent(user, id, ['a', 'b', 'c']), eventTime: at });
const feedback = (user: string, id: string, signal: 'CHOSEN' | 'ACCEPT' | 'REJECT', actionId: string, at = T0) => ({
  ...feedbackEvent(user, id, { signal, value: signal === 'REJECT' ? 0 : 1, actionId }),
  eventTime: at,
});

/** Runs the step over `batches` on one task with an in-memory store; returns each REQUEST's buckets. */
async function run(options: ActionHistoryOptions, batches: TrajectoryEvent[][], store = new MemoryStore('history')) {
  const ctx = singleStoreContext('history', 'history', store);
  const operator = actionHistory('history', options).create(ctx);
  const buckets: number[][] = [];
  const features: string[][] = [];
  let offset = 0;
  for (const events of batches) {
    const batch: Batch<EncodedEvent> = {
      partition: 0,
      records: events.map((e) => ({
        meta: { topic: 'in', partition: 0, offset: offset++, timestamp: e.eventTime, key: e.userId },
        value: { event: e, features: [] },
      })),
    };
    const out = await firstValueFrom(of(batch).pipe(operator));
    expect(out.records.map((r) => r.value.event)).toEqual(events);
    for (const r of out.records) {
      if (r.value.event.kind !== 'REQUEST') continue;
      buckets.push(Array.from(r.value.candidateHistory ?? []));
      features.push(r.value.features.map((f) => `${f.key}@${f.weight.toFixed(3)}`));
    }
  }
  return { buckets, features, store };
}

describe('actionHistory step', () => {
  it('gives a request the counts of the feedback before it only, per user', async () => {
    const { buckets } = await run({}, [
      [request('u1', 'r1'), feedback('u1', 'r1', 'CHOSEN', 'b'), request('u1', 'r2'), request('u2', 'r3')],
      [feedback('u1', 'r2', 'ACCEPT', 'b'), feedback('u1', 'r2', 'REJECT', 'c'), request('u1', 'r4')],
    ]);
    expect(buckets).toEqual([
      [0, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
      [0, 2, 0],
    ]);
  });

  it('gives the same buckets however the events are cut into batches, and across a restart', async () => {
    const events = [
      request('u1', 'r1'),
      feedback('u1', 'r1', 'CHOSEN', 'a'),
      request('u1', 'r2'),
      feedback('u1', 'r2', 'CHOSEN', 'a'),
      feedback('u1', 'r2', 'CHOSEN', 'c'),
      request('u1', 'r3'),
    ];
    const whole = await run({}, [events]);
    const store = new MemoryStore('history');
    const first = await run({}, [events.slice(0, 2), events.slice(2, 4)], store);
    const second = await run({}, [events.slice(4)], store);
    expect([...first.buckets, ...second.buckets]).toEqual(whole.buckets);
    expect(whole.buckets.at(-1)).toEqual([2, 0, 1]);
  });

  it('forgets a user idle past the TTL, and counts the signals it is given', async () => {
    const { buckets } = await run({ ttlMs: HOUR, signals: ['REJECT'] }, [
      [feedback('u1', 'r0', 'CHOSEN', 'a'), feedback('u1', 'r0', 'REJECT', 'b'), request('u1', 'r1')],
      [request('u1', 'r2', T0 + 2 * HOUR)],
    ]);
    expect(buckets).toEqual([
      [0, 1, 0],
      [0, 0, 0],
    ]);
  });

  it("with takenFeatures, puts the user's most-taken actions first among a request's features", async () => {
    const takes = [feedback('u1', 'r0', 'CHOSEN', 'a'), feedback('u1', 'r0', 'CHOSEN', 'c'), feedback('u1', 'r0', 'ACCEPT', 'c')];
    const { features } = await run({ takenFeatures: 2 }, [
      [request('u1', 'r1'), ...takes, feedback('u1', 'r0', 'CHOSEN', 'b'), request('u1', 'r2')],
    ]);
    // Most taken first; among equals the later first taken; weights 1/√n.
    expect(features).toEqual([[], ['taken=c@0.707', 'taken=b@0.707']]);
    // Sixteen by default, so these two; none with 0.
    expect((await run({}, [[...takes, request('u1', 'r1')]])).features).toEqual([['taken=c@0.707', 'taken=a@0.707']]);
    expect((await run({ takenFeatures: 0 }, [[...takes, request('u1', 'r1')]])).features).toEqual([[]]);
    expect(() => actionHistory('history', { takenFeatures: 65 })).toThrow(/\/steps\/history\/takenFeatures/);
  });

  it('passes events through untouched when disabled, and checks its options', async () => {
    const { buckets } = await run({ enabled: false }, [[feedback('u1', 'r0', 'CHOSEN', 'a'), request('u1', 'r1')]]);
    expect(buckets).toEqual([[]]);
    expect(() => actionHistory('history', { maxActions: 0 })).toThrow(/\/steps\/history\/maxActions/);
    expect(() => actionHistory('history', { signals: ['LIKE' as never] })).toThrow(/\/steps\/history\/signals\/0/);
  });
});
