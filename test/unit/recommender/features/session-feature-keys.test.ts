import { describe, expect, it } from 'vitest';
import { MAX_INTERNED, SessionFeatureKeys } from '../../../../src/recommender/features/session-feature-keys.js';

describe('session feature keys', () => {
  it('hands out one object per distinct value, with the key the lookup expects', () => {
    const keys = new SessionFeatureKeys();
    const pair = keys.previousTwo('git', 'npm');
    expect(pair).toEqual({ key: 'prev2=git|npm', weight: 1 });
    expect(keys.previousTwo('git', 'npm')).toBe(pair);
    expect(keys.previousAction('git')).toBe(keys.previousAction('git'));
    expect(keys.error('timeout').key).toBe('last_outcome=error:timeout');
    expect(keys.previousOutcome('git', false).key).toBe('prev_outcome=git|error');
  });

  it('bounds the action pairs in total, not per preceding action: n actions have n² pairs', () => {
    const keys = new SessionFeatureKeys();
    const actions = Math.ceil(Math.sqrt(MAX_INTERNED)) + 10;
    let most = 0;
    for (let a = 0; a < actions; a++) {
      for (let b = 0; b < actions; b++) {
        const feature = keys.previousTwo(`a${a}`, `a${b}`);
        expect(feature.key).toBe(`prev2=a${a}|a${b}`);
        most = Math.max(most, keys.size);
      }
    }
    expect(actions * actions).toBeGreaterThan(MAX_INTERNED);
    expect(most).toBeLessThanOrEqual(MAX_INTERNED);
  });
});
