import { describe, expect, it } from 'vitest';
import {
  GlobalPopularity,
  MarkovChain,
  RunningMean,
  UserItemBias,
  UserPopularity,
} from '../../../../src/recommender/replay/baselines/index.js';
import type { FeedbackSignal, TrajectoryEvent } from '../../../../src/recommender/records.js';

let counter = 0;
function request(userId: string, actions: string[], sessionId = `s-${userId}`): TrajectoryEvent {
  const id = `r${++counter}`;
  return {
    eventId: id,
    kind: 'REQUEST',
    userId,
    sessionId,
    eventTime: 1000 + counter,
    requestId: id,
    tool: null,
    domain: null,
    repo: null,
    errorType: null,
    agent: null,
    text: null,
    code: null,
    candidates: actions.map((actionId) => ({ actionId, tool: null, text: null })),
    feedback: null,
    source: 'REAL',
    attributes: {},
  };
}

function feedback(req: TrajectoryEvent, signal: FeedbackSignal, actionId: string | null, value = 1): TrajectoryEvent {
  return { ...req, eventId: `${req.eventId}/f`, kind: 'FEEDBACK', candidates: [], feedback: { signal, value, actionId } };
}

describe('baselines', () => {
  it('global popularity ranks by positive feedback so far and smooths accept rates', () => {
    const b = new GlobalPopularity();
    const r = request('u1', ['a', 'b', 'c']);
    expect(b.predict(r)).toEqual({ scores: [0, 0, 0], probabilities: [0.5, 0.5, 0.5] });
    b.learn(feedback(r, 'CHOSEN', 'b'), r);
    b.learn(feedback(r, 'CHOSEN', 'b'), r);
    b.learn(feedback(r, 'ACCEPT', 'a'), r);
    b.learn(feedback(r, 'REJECT', 'c', 0), r);
    const p = b.predict(request('u2', ['a', 'b', 'c']));
    expect(p.scores).toEqual([1, 2, 0]);
    // Overall rate (1 + 1) / (2 + 2) = 0.5 is the prior; a: (1 + 0.5·2) / (1 + 2), c: (0 + 1) / 3, b: the prior.
    expect(p.probabilities).toEqual([2 / 3, 0.5, 1 / 3]);
  });

  it('per-user popularity puts the user’s own habits first, global popularity breaking ties', () => {
    const b = new UserPopularity();
    const r1 = request('u1', ['a', 'b']);
    const r2 = request('u2', ['a', 'b']);
    b.learn(feedback(r1, 'CHOSEN', 'a'), r1);
    b.learn(feedback(r2, 'CHOSEN', 'b'), r2);
    b.learn(feedback(r2, 'CHOSEN', 'b'), r2);
    const forU1 = b.predict(request('u1', ['a', 'b'])).scores!;
    const forNewcomer = b.predict(request('u3', ['a', 'b'])).scores!;
    expect(forU1[0]).toBeGreaterThan(forU1[1]);
    expect(forNewcomer[1]).toBeGreaterThan(forNewcomer[0]);
    expect(forU1).toEqual([1 + 1 / 4, 2 / 4]);
  });

  it('the Markov chain ranks what followed the session’s previous action', () => {
    const b = new MarkovChain();
    const s1a = request('u1', ['a', 'b', 'c'], 's1');
    b.learn(feedback(s1a, 'CHOSEN', 'a'), s1a);
    const s1b = request('u1', ['a', 'b', 'c'], 's1');
    b.learn(feedback(s1b, 'CHOSEN', 'b'), s1b);
    const s2a = request('u2', ['a', 'b', 'c'], 's2');
    // First request of a session: popularity only (a and b once each, a earlier wins the tie by candidate order).
    expect(b.predict(s2a).scores).toEqual([1 / 3, 1 / 3, 0]);
    b.learn(feedback(s2a, 'CHOSEN', 'a'), s2a);
    // Previous action a → b once; c never followed a.
    expect(b.predict(request('u2', ['c', 'b'], 's2')).scores).toEqual([0, 1 + 1 / 4]);
  });

  it('the running mean predicts the mean so far, the initial value before any rating', () => {
    const b = new RunningMean(3);
    const r = request('u1', ['x']);
    expect(b.predict(r).ratings).toEqual([3]);
    b.learn(feedback(r, 'RATING', 'x', 5));
    b.learn(feedback(r, 'RATING', 'x', 2));
    b.learn(feedback(r, 'CHOSEN', 'x'));
    expect(b.predict(r).ratings).toEqual([3.5]);
  });

  it('user + item bias: damped residual means, taken online', () => {
    const b = new UserItemBias(3, 5);
    const r = request('u1', ['i1']);
    b.learn(feedback(r, 'RATING', 'i1', 5), r);
    // μ = 5; item i1 residual 5 − 3 = 2 over (1 + 5); user u1 residual 5 − 3 − 0 = 2 over (1 + 5).
    expect(b.predict(request('u1', ['i1', 'i2'])).ratings).toEqual([5 + 2 / 6 + 2 / 6, 5 + 2 / 6]);
    expect(b.predict(request('u2', ['i2'])).ratings).toEqual([5]);
    const r2 = request('u2', ['i1']);
    b.learn(feedback(r2, 'RATING', 'i1', 1), r2);
    // μ = 3; i1: (2 + (1 − 5)) / (2 + 5); u2: (1 − 5 − 2/6) / (1 + 5).
    const [u2i1] = b.predict(request('u2', ['i1'])).ratings!;
    expect(u2i1).toBeCloseTo(3 + -2 / 7 + (1 - 5 - 2 / 6) / 6, 12);
  });
});
