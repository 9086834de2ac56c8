import { describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../../../src/recommender/records.js';
import { LiveBaselines } from '../../../../src/recommender/simulation/live-baselines.js';
import { SimulatedUsers } from '../../../../src/recommender/simulation/simulated-users.js';

const base = {
  sessionId: 's1',
  tool: null,
  domain: null,
  repo: null,
  errorType: null,
  agent: null,
  text: null,
  code: null,
  source: 'REAL',
  attributes: {},
} as const;

function request(user: string, id: string, candidates: string[]): TrajectoryEvent {
  return {
    ...base,
    userId: user,
    eventId: `${id}/r`,
    requestId: id,
    kind: 'REQUEST',
    eventTime: 0,
    candidates: candidates.map((a) => ({ actionId: a, tool: null, text: null })),
    feedback: null,
  };
}

function chosen(user: string, id: string, actionId: string): TrajectoryEvent {
  return {
    ...base,
    userId: user,
    eventId: `${id}/f`,
    requestId: id,
    kind: 'FEEDBACK',
    eventTime: 0,
    candidates: [],
    feedback: { signal: 'CHOSEN', value: 1, actionId },
  };
}

describe('LiveBaselines', () => {
  it('scores each baseline at the feedback, before learning from it', () => {
    const live = new LiveBaselines(1);
    expect(live.best()).toBeUndefined();
    // u1 always picks b; u2 always picks a. After one choice each, per-user popularity ranks right.
    for (const [i, [user, pick]] of [
      ['u1', 'b'],
      ['u2', 'a'],
      ['u1', 'b'],
      ['u2', 'a'],
    ].entries()) {
      live.observe(request(user, `r${i}`, ['a', 'b']));
      live.observe(chosen(user, `r${i}`, pick));
    }
    // Smoothing 1: each rate is the last hit. u2 picks a, which u2 chose before but everyone chose b more often.
    const rates = Object.fromEntries(live.hitRates().map((r) => [r.name, r.hitAt1]));
    expect(rates['user-popularity']).toBe(1);
    expect(rates['global-popularity']).toBe(0);
    expect(live.best()!.name).toBe('user-popularity');
  });

  it('finds per-user popularity ahead of global popularity on simulated users', () => {
    const users = new SimulatedUsers({ users: 50, actions: 40, candidates: 10, seed: 3 });
    const live = new LiveBaselines(0.01);
    for (let i = 0; i < 6000; i++) live.observe(users.next());
    const rates = Object.fromEntries(live.hitRates().map((r) => [r.name, r.hitAt1]));
    expect(rates['user-popularity']).toBeGreaterThan(rates['global-popularity']);
    expect(live.best()!.name).toBe('user-popularity');
  });
});
