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

function rated(user: string, id: string, actionId: string, stars: number): TrajectoryEvent {
  return { ...chosen(user, id, actionId), feedback: { signal: 'RATING', value: stars, actionId } };
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

  it('judges the rating baselines on each rating before learning from it, clipped to the ratings seen', () => {
    const live = new LiveBaselines(1);
    // Item 'good' always gets 5 stars and 'bad' 1: item biases predict them, the running mean cannot.
    live.observe(request('u1', 'q0', ['good']));
    live.observe(rated('u1', 'q0', 'good', 5));
    // Nothing to clip to before the first rating: not judged yet.
    expect(live.bestRating()).toBeUndefined();
    for (let i = 1; i <= 40; i++) {
      const [item, stars] = i % 2 ? ['bad', 1] : ['good', 5];
      live.observe(request(`u${i % 3}`, `q${i}`, [item]));
      live.observe(rated(`u${i % 3}`, `q${i}`, item, stars));
    }
    const errors = Object.fromEntries(live.ratingErrors().map((e) => [e.name, e.mae]));
    // Smoothing 1: each error is the last rating's. The running mean sits near 3, two stars off.
    expect(errors['running-mean']).toBeGreaterThan(1.5);
    expect(errors['user-item-bias']).toBeLessThan(1);
    expect(live.bestRating()!.name).toBe('user-item-bias');
  });
});
