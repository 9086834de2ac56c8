import { describe, expect, it } from 'vitest';
import { BadRecordError } from '../../../src/errors.js';
import { validateTrajectoryEvent, type TrajectoryEvent } from '../../../src/recommender/index.js';
import { feedbackEvent, requestEvent, requestEventV1 } from '../serde/fixtures.js';

function fieldOf(event: TrajectoryEvent): string | undefined {
  try {
    validateTrajectoryEvent(event);
  } catch (err) {
    expect(err).toBeInstanceOf(BadRecordError);
    expect((err as BadRecordError).code).toBe('VALIDATION_FAILED');
    return (err as BadRecordError).field;
  }
  return undefined;
}

const candidate = (actionId: string) => ({ actionId, tool: null, text: null });

describe('validateTrajectoryEvent', () => {
  it('returns valid events unchanged, v1 and v2, every kind', () => {
    const valid = [
      requestEvent(),
      feedbackEvent(),
      feedbackEvent({ feedback: { signal: 'CHOSEN', value: 1, actionId: 'act-deploy' } }),
      feedbackEvent({ feedback: { signal: 'ACCEPT', value: 1, actionId: null } }),
      requestEvent({ kind: 'TOOL_CALL', candidates: [] }),
      requestEvent({ kind: 'AGENT_RESPONSE', candidates: [], requestId: 'evt-1' }),
    ];
    for (const event of valid) expect(validateTrajectoryEvent(event)).toBe(event);
    const v1 = requestEventV1();
    expect(validateTrajectoryEvent(v1)).toBe(v1);
  });

  it.each([
    ['userId', requestEvent({ userId: '' })],
    ['userId', requestEvent({ userId: '   ' })],
    ['eventId', requestEvent({ eventId: '' })],
    ['eventTime', requestEvent({ eventTime: 0 })],
    ['eventTime', requestEvent({ eventTime: -5 })],
    ['eventTime', requestEvent({ eventTime: Number.NaN })],
    ['candidates', requestEvent({ candidates: [] })],
    ['candidates[1].actionId', requestEvent({ candidates: [candidate('a'), candidate('')] })],
    ['candidates[2].actionId', requestEvent({ candidates: [candidate('a'), candidate('b'), candidate('a')] })],
    ['feedback', feedbackEvent({ feedback: null })],
    ['feedback.value', feedbackEvent({ feedback: { signal: 'RATING', value: Number.NaN, actionId: 'a' } })],
    ['feedback.value', feedbackEvent({ feedback: { signal: 'RATING', value: Number.POSITIVE_INFINITY, actionId: 'a' } })],
    ['feedback.value', feedbackEvent({ feedback: { signal: 'ACCEPT', value: Number.NaN, actionId: 'a' } })],
    ['requestId', feedbackEvent({ requestId: null })],
    ['feedback.actionId', feedbackEvent({ feedback: { signal: 'CHOSEN', value: 1, actionId: null } })],
  ])('names %s', (field, event) => {
    expect(fieldOf(event)).toBe(field);
  });

  it('names the earlier duplicate in the message', () => {
    expect(() => validateTrajectoryEvent(requestEvent({ candidates: [candidate('x'), candidate('y'), candidate('x')] }))).toThrow(
      "duplicate actionId 'x' (also candidates[0])",
    );
  });

  it('finds duplicates in long candidate lists as in short ones', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => candidate(`act-${i}`));
    for (const n of [5, 32, 33, 200]) {
      expect(fieldOf(requestEvent({ candidates: ids(n) }))).toBeUndefined();
      const repeated = ids(n);
      repeated[n - 1] = candidate('act-1');
      expect(() => validateTrajectoryEvent(requestEvent({ candidates: repeated }))).toThrow(
        `duplicate actionId 'act-1' (also candidates[1])`,
      );
      expect(fieldOf(requestEvent({ candidates: repeated }))).toBe(`candidates[${n - 1}].actionId`);
    }
  });

  it('tells apart ids that share their length and last characters', () => {
    const lookalikes = ['a', 'b', 'x-123', 'y-123', 'deploy-7', 'rework-7', '\u00e9t\u00e9', 'et\u00e9'].map(candidate);
    expect(fieldOf(requestEvent({ candidates: lookalikes }))).toBeUndefined();
    expect(fieldOf(requestEvent({ candidates: [...lookalikes, candidate('y-123')] }))).toBe('candidates[8].actionId');
  });

  it('does not require candidates or feedback on kinds that do not use them', () => {
    expect(fieldOf(requestEvent({ kind: 'TOOL_RESULT', candidates: [], feedback: null }))).toBeUndefined();
  });
});
