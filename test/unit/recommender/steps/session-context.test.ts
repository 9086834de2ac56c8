import { firstValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  SESSION_FEATURES,
  sessionContext,
  sessionKey,
  type SessionContextOptions,
} from '../../../../src/recommender/steps/session-context.js';
import type { TrajectoryEvent } from '../../../../src/recommender/records.js';
import type { EncodedEvent } from '../../../../src/recommender/types.js';
import { MemoryStore } from '../../../../src/state/memory-store.js';
import type { Batch } from '../../../../src/topology/types.js';
import { HOUR, T0, feedbackEvent, requestEvent, singleStoreContext } from '../recommender-harness.js';

const USER = 'user-1';

function event(kind: TrajectoryEvent['kind'], overrides: Partial<TrajectoryEvent> = {}): TrajectoryEvent {
  return { ...requestEvent(USER, 'r', []), kind, eventId: `${kind}-${overrides.tool ?? ''}`, tool: null, ...overrides };
}
const request = (overrides: Partial<TrajectoryEvent> = {}) => requestEvent(USER, 'r', ['a', 'b'], { tool: null, ...overrides });
const call = (tool: string, overrides: Partial<TrajectoryEvent> = {}) => event('TOOL_CALL', { tool, ...overrides });
const result = (tool: string | null, errorType: string | null = null) => event('TOOL_RESULT', { tool, errorType });
const chosen = (actionId: string) => feedbackEvent(USER, 'r', { signal: 'CHOSEN', value: 1, actionId });

/** Runs the step over `batches` of events on one task with an in-memory store; returns each REQUEST's features. */
async function run(options: SessionContextOptions, batches: TrajectoryEvent[][], store = new MemoryStore('sessions')) {
  const counts = new Map<string, number>();
  const ctx = singleStoreContext('session', options.store ?? 'sessions', store, counts);
  const operator = sessionContext('session', options).create(ctx);
  const features: string[][] = [];
  let offset = 0;
  for (const events of batches) {
    const batch: Batch<EncodedEvent> = {
      partition: 0,
      records: events.map((e) => ({
        meta: { topic: 'in', partition: 0, offset: offset++, timestamp: e.eventTime, key: e.userId },
        value: { event: e, features: e.kind === 'REQUEST' ? [{ key: 'domain=web', weight: 1 }] : [] },
      })),
    };
    const out = await firstValueFrom(of(batch).pipe(operator));
    expect(out.records.map((r) => r.value.event)).toEqual(events);
    for (const r of out.records) {
      if (r.value.event.kind !== 'REQUEST') continue;
      expect(r.value.features.every((f) => f.weight === 1)).toBe(true);
      features.push(r.value.features.map((f) => f.key));
    }
  }
  const entries = new Map<string, Buffer>();
  for await (const [key, value] of store.range()) entries.set(key.toString('latin1'), value);
  return { features, entries, counts };
}

const ALL_FEATURES = [...SESSION_FEATURES];

const SESSION = [
  request(),
  call('git'),
  result('git', 'Timeout'),
  request(),
  call('bash'),
  result('bash'),
  event('AGENT_RESPONSE'),
  request(),
];

describe('sessionContext', () => {
  it('turns what the session did into features of its next request, placed first', async () => {
    const { features } = await run({ features: ALL_FEATURES }, [SESSION]);
    expect(features).toEqual([
      ['turn=0', 'domain=web'],
      ['prev_action=git', 'prev_outcome=git|error', 'last_outcome=error:Timeout', 'turn=1', 'domain=web'],
      ['prev_action=bash', 'prev2=git|bash', 'prev_outcome=bash|ok', 'last_outcome=ok', 'turn=2', 'domain=web'],
    ]);
    // By default every feature but the pair of the previous two actions.
    expect((await run({}, [SESSION])).features.at(-1)).toEqual([
      'prev_action=bash',
      'prev_outcome=bash|ok',
      'last_outcome=ok',
      'turn=2',
      'domain=web',
    ]);
  });

  it('gives the same features and stored bytes whether the events come in one batch or one by one', async () => {
    const together = await run({}, [SESSION]);
    const apart = await run(
      {},
      SESSION.map((e) => [e]),
    );
    expect(apart.features).toEqual(together.features);
    expect(apart.entries).toEqual(together.entries);
    expect([...together.entries.keys()]).toEqual([sessionKey(USER, `session-${USER}`).toString('latin1')]);
  });

  it('switches each feature on its own', async () => {
    const only = async (features: SessionContextOptions['features']) => (await run({ features }, [SESSION])).features.at(-1);
    expect(await only(['previousAction'])).toEqual(['prev_action=bash', 'domain=web']);
    expect(await only(['previousTwo', 'turn'])).toEqual(['prev2=git|bash', 'turn=2', 'domain=web']);
    expect(await only({ turn: false, lastOutcome: false, previousTwo: true })).toEqual([
      'prev_action=bash',
      'prev2=git|bash',
      'prev_outcome=bash|ok',
      'domain=web',
    ]);
    expect(await only(['previousOutcome'])).toEqual(['prev_outcome=bash|ok', 'domain=web']);
    // A call whose result has not come yet has no outcome to cross with.
    const pending = await run({ features: ['previousOutcome'] }, [[request(), call('git'), request()]]);
    expect(pending.features.at(-1)).toEqual(['domain=web']);
    expect(await only([])).toEqual(['domain=web']);
  });

  it('keeps sessions apart, by user as well as by session id', async () => {
    const other = (e: TrajectoryEvent) => ({ ...e, userId: 'user-2' });
    const { features, entries } = await run({}, [
      [call('git'), other(call('sql')), call('bash', { sessionId: 's2' }), request(), other(request()), request({ sessionId: 's2' })],
    ]);
    expect(features.map((f) => f[0])).toEqual(['prev_action=git', 'prev_action=sql', 'prev_action=bash']);
    expect(entries.size).toBe(3);
  });

  it("counts CHOSEN feedback as the action until the session makes tool calls ('auto')", async () => {
    // Requests and feedback only, as the simulator emits: the chosen actions are the history.
    const simulated = await run({ features: ALL_FEATURES }, [[request(), chosen('action-3'), request(), chosen('action-5'), request()]]);
    expect(simulated.features.at(-1)!.slice(0, 2)).toEqual(['prev_action=action-5', 'prev2=action-3|action-5']);
    // CHOSEN then the call it led to: one action, named by the call; CHOSEN after calls: ignored.
    const transcript = await run({ features: ALL_FEATURES }, [
      [request(), chosen('git'), call('git'), request(), chosen('bash'), call('bash'), chosen('late'), request()],
    ]);
    expect(transcript.features.at(-1)!.slice(0, 2)).toEqual(['prev_action=bash', 'prev2=git|bash']);
    const never = await run({ chosenIsAction: false }, [[request(), chosen('action-3'), request()]]);
    // Other feedback never is an action.
    const accepted = feedbackEvent(USER, 'r', { signal: 'ACCEPT', value: 1, actionId: 'action-4' });
    expect((await run({ chosenIsAction: true }, [[request(), accepted, request()]])).features.at(-1)).toEqual(['turn=1', 'domain=web']);
    expect(never.features.at(-1)).toEqual(['turn=1', 'domain=web']);
  });

  it('starts a session over after the TTL of event time, and sweeps idle entries at quarter-TTL boundaries', async () => {
    const later = (e: TrajectoryEvent, hours: number) => ({ ...e, eventTime: T0 + hours * HOUR });
    const { features, entries, counts } = await run({ ttlMs: 2 * HOUR }, [
      [call('git'), later(request(), 1)],
      [later(call('sql', { sessionId: 'other' }), 1.5)],
      [later(request(), 3.5)],
      [later(call('bash', { sessionId: 'third' }), 10)],
    ]);
    expect(features).toEqual([
      ['prev_action=git', 'turn=0', 'domain=web'],
      ['turn=0', 'domain=web'],
    ]);
    // At 10 h the sweep (cutoff 10 h - 2 h) deleted the two sessions idle since 3.5 h and 1.5 h.
    expect(entries.size).toBe(1);
    expect(counts.get('sessions_expired')).toBe(2);
  });

  it('passes events through untouched and declares no store when disabled', async () => {
    const step = sessionContext('session', { enabled: false });
    expect(step.stores).toBeUndefined();
    const { features, entries } = await run({ enabled: false }, [SESSION]);
    expect(features.every((f) => f.length === 1)).toBe(true);
    expect(entries.size).toBe(0);
    expect(sessionContext('session').stores).toEqual([{ name: 'sessions', maxCacheBytes: 2 * 1024 * 1024 }]);
    expect(sessionContext('session').options).toMatchObject({
      k: 2,
      ttlMs: 24 * HOUR,
      features: ['previousAction', 'lastOutcome', 'previousOutcome', 'turn'],
      chosenIsAction: 'auto',
    });
  });

  it.each([
    [{ k: 0 }, '/steps/session/k'],
    [{ k: 1, features: ['previousTwo'] }, '/steps/session/k: must be at least 2 for the previousTwo feature'],
    [{ k: 2.5 }, '/steps/session/k'],
    [{ ttlMs: -1 }, '/steps/session/ttlMs'],
    [{ ttlMs: Infinity }, '/steps/session/ttlMs'],
    [{ features: ['previousAction', 'nextAction'] }, "/steps/session/features/1: unknown feature 'nextAction'"],
    [{ features: { turns: true } }, '/steps/session/features/turns'],
    [{ features: { turn: 'yes' } }, '/steps/session/features/turn: must be true or false'],
    [{ chosenIsAction: 'sometimes' }, '/steps/session/chosenIsAction'],
    [{ enabled: 'false' }, '/steps/session/enabled'],
  ])('rejects %j with an error naming %s', (options, message) => {
    expect(() => sessionContext('session', options as SessionContextOptions)).toThrow(message);
  });

  it('accepts k = 1 without the previousTwo feature', () => {
    expect(sessionContext('session', { k: 1, features: ['previousAction'] }).options).toMatchObject({ k: 1 });
  });
});
