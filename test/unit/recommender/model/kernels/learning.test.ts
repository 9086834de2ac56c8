import { describe, expect, it } from 'vitest';
import { createFmWorkspace, fmBackward, fmPrepareContext, fmRowLength, fmScore } from '../../../../../src/recommender/model/kernels/fm.js';
import { logisticLoss } from '../../../../../src/recommender/model/kernels/losses.js';
import { adagradUpdate, resolveAdagradConfig } from '../../../../../src/recommender/model/kernels/optimizers.js';
import { fillGaussian, splitmix32, type Random } from '../../../../../src/recommender/model/kernels/prng.js';

/**
 * End-to-end sanity of the kernels as the operators will use them: one event at a time, score all
 * candidates, logistic loss on the action shown, AdaGrad on the touched rows only. Each user
 * prefers one hidden action; context features are noise, so only the user rows can carry it.
 */
const dim = 8;
const users = 40;
const actions = 8;
const noiseFeatures = 6;

interface Row {
  values: Float32Array;
  slots: Float32Array;
}

function makeRows(count: number, random: Random): Row[] {
  return Array.from({ length: count }, () => {
    const values = new Float32Array(fmRowLength(dim));
    fillGaussian(values, random, 0.1, 0, dim);
    return { values, slots: new Float32Array(fmRowLength(dim)) };
  });
}

describe('online logistic FM learns a synthetic user × action preference', () => {
  const random = splitmix32(2024);
  const preferred = Array.from({ length: users }, () => random.nextUint32() % actions);
  const userRows = makeRows(users, random);
  const featureRows = makeRows(noiseFeatures, random);
  const actionRows = makeRows(actions, random);
  const bias = new Float32Array(1);
  const biasSlot = new Float32Array(1);
  const config = resolveAdagradConfig({ learningRate: 0.2 });
  const workspace = createFmWorkspace(dim);
  const candidates = actionRows.map((r) => r.values);
  const scores = new Float32Array(actions);
  const dScores = new Float32Array(actions);
  const context: Float32Array[] = [userRows[0].values, featureRows[0].values];
  const contextRows: Row[] = [userRows[0], featureRows[0]];
  const weights = [1, 1];
  const contextGradients = [new Float32Array(fmRowLength(dim)), new Float32Array(fmRowLength(dim))];
  const candidateGradients = candidates.map(() => new Float32Array(fmRowLength(dim)));

  const setContext = (user: number, feature: number) => {
    contextRows[0] = userRows[user];
    contextRows[1] = featureRows[feature];
    context[0] = userRows[user].values;
    context[1] = featureRows[feature].values;
  };

  /** Top-1 accuracy and AUC (preferred vs. every other action, per user). */
  const evaluate = () => {
    let hits = 0;
    let concordant = 0;
    let pairs = 0;
    for (let u = 0; u < users; u++) {
      setContext(u, u % noiseFeatures);
      fmPrepareContext(workspace, bias[0], context, weights);
      fmScore(workspace, candidates, scores);
      let best = 0;
      for (let a = 1; a < actions; a++) if (scores[a] > scores[best]) best = a;
      if (best === preferred[u]) hits++;
      for (let a = 0; a < actions; a++) {
        if (a === preferred[u]) continue;
        pairs++;
        if (scores[preferred[u]] > scores[a]) concordant++;
      }
    }
    return { accuracy: hits / users, auc: concordant / pairs };
  };

  const before = evaluate();

  for (let event = 0; event < 6000; event++) {
    const user = random.nextUint32() % users;
    setContext(user, random.nextUint32() % noiseFeatures);
    // Half the impressions show the preferred action so positives are not too rare to learn from.
    const shown = random.nextFloat() < 0.5 ? preferred[user] : random.nextUint32() % actions;
    const noisy = random.nextFloat() < 0.05;
    const label = (shown === preferred[user]) !== noisy ? 1 : 0;
    fmPrepareContext(workspace, bias[0], context, weights);
    fmScore(workspace, candidates, scores);
    logisticLoss(scores, shown, label, 1, dScores);
    const dBias = fmBackward(workspace, context, weights, candidates, dScores, contextGradients, candidateGradients);
    for (let i = 0; i < contextRows.length; i++) adagradUpdate(contextRows[i].values, contextRows[i].slots, contextGradients[i], config);
    adagradUpdate(actionRows[shown].values, actionRows[shown].slots, candidateGradients[shown], config);
    adagradUpdate(bias, biasSlot, [dBias], config);
  }

  const after = evaluate();

  it('ranks each user’s preferred action first far above chance (1/8)', () => {
    expect(before.accuracy).toBeLessThan(0.4);
    expect(after.accuracy).toBeGreaterThanOrEqual(0.85);
  });

  it('separates preferred from other actions (AUC)', () => {
    expect(before.auc).toBeLessThan(0.7);
    expect(after.auc).toBeGreaterThan(0.95);
  });
});
