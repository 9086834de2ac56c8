import { describe, expect, it } from 'vitest';
import {
  createCrossNetworkWorkspace,
  crossNetworkBackward,
  crossNetworkForward,
  crossNetworkSharedFirstLayer,
  initCrossNetwork,
  resolveCrossNetworkLayout,
} from '../../../../../src/recommender/model/kernels/dcn.js';
import {
  createDcnScorerWorkspace,
  DEFAULT_DCN_FIELDS,
  MAX_DCN_FIELDS,
  TRAJECTORY_DCN_FIELDS,
  dcnScorerBackward,
  dcnScorerForward,
  initDcnScorer,
  resolveDcnScorer,
  type DcnContext,
} from '../../../../../src/recommender/model/kernels/dcn-scorer.js';
import {
  createMlpWorkspace,
  initMlp,
  mlpBackward,
  mlpForward,
  resolveMlpLayout,
} from '../../../../../src/recommender/model/kernels/mlp.js';
import { splitmix32 } from '../../../../../src/recommender/model/kernels/prng.js';
import { ConfigError } from '../../../../../src/errors.js';
import { finiteDifferenceMismatches, randomArray, weightedSum } from './gradient-check.js';

const fdOptions = { epsilon: 1e-2, relativeTolerance: 1e-2, absoluteTolerance: 2e-3 };

describe.each([
  ['full rank', 0],
  ['low rank', 2],
])('DCN-v2 cross network, %s', (_name, rank) => {
  const layout = resolveCrossNetworkLayout({ inputDim: 5, layers: 2, rank });
  const random = splitmix32(11 + rank);
  const parameters = new Float32Array(layout.parameterCount);
  initCrossNetwork(layout, parameters, random);
  // Non-zero biases, so the bias path is exercised.
  for (const offset of layout.layerOffsets) {
    const bias = offset + layout.parameterCount / layout.layers - layout.inputDim;
    for (let i = 0; i < layout.inputDim; i++) parameters[bias + i] = 0.3 * (random.nextFloat() - 0.5);
  }
  const x0 = randomArray(layout.inputDim, () => random.nextFloat());
  const upstream = randomArray(layout.inputDim, () => random.nextFloat());
  const workspace = createCrossNetworkWorkspace(layout);
  const loss = () => weightedSum(crossNetworkForward(layout, parameters, x0, workspace), upstream);
  loss();
  const parameterGradients = new Float32Array(layout.parameterCount);
  const dx0 = new Float32Array(layout.inputDim);
  crossNetworkBackward(layout, parameters, workspace, upstream, parameterGradients, dx0);

  it('has the expected parameter count', () => {
    const d = layout.inputDim;
    expect(layout.parameterCount).toBe(rank === 0 ? 2 * (d * d + d) : 2 * (2 * d * rank + d));
  });

  it('weight and bias gradients match finite differences', () => {
    expect(finiteDifferenceMismatches(parameters, parameterGradients, loss, fdOptions)).toEqual([]);
  });

  it('x0 gradient (both the residual and the Hadamard routes) matches finite differences', () => {
    expect(finiteDifferenceMismatches(x0, dx0, loss, fdOptions)).toEqual([]);
  });

  it('gives the same output when layer 0 reuses a shared part computed from another x0', () => {
    const plain = crossNetworkForward(layout, parameters, x0, workspace).slice();
    const other = x0.slice();
    other[1] += 0.7; // differs from x0 only inside the varying block [1, 3)
    other[2] -= 0.4;
    const shared = new Float32Array(layout.inputDim);
    crossNetworkSharedFirstLayer(layout, parameters, other, 0, 1, 3, shared);
    const reused = crossNetworkForward(layout, parameters, x0, createCrossNetworkWorkspace(layout), 0, shared, 1, 3);
    for (let i = 0; i < plain.length; i++) expect(reused[i]).toBeCloseTo(plain[i], 5);
  });

  it('accumulates parameter gradients across backward calls', () => {
    const twice = new Float32Array(layout.parameterCount);
    loss();
    crossNetworkBackward(layout, parameters, workspace, upstream, twice, dx0);
    crossNetworkBackward(layout, parameters, workspace, upstream, twice, dx0);
    for (let i = 0; i < twice.length; i++) expect(twice[i]).toBeCloseTo(2 * parameterGradients[i], 5);
  });
});

describe('cross network config', () => {
  it('names the offending path', () => {
    expect(() => resolveCrossNetworkLayout({ inputDim: 4, layers: 1, rank: 4 })).toThrow(ConfigError);
    expect(() => resolveCrossNetworkLayout({ inputDim: 4, layers: 1, rank: 4 })).toThrow('/interact/cross/rank');
    expect(() => resolveCrossNetworkLayout({ inputDim: 0, layers: 1 }, '/x')).toThrow('/x/inputDim');
  });
});

describe('MLP', () => {
  const layout = resolveMlpLayout({ inputDim: 4, hidden: [6, 5], outputDim: 2 });
  const random = splitmix32(5);
  const parameters = new Float32Array(layout.parameterCount);
  initMlp(layout, parameters, random);
  for (let i = 0; i < parameters.length; i++) if (parameters[i] === 0) parameters[i] = 0.2 * (random.nextFloat() - 0.3);
  const input = randomArray(4, () => random.nextFloat());
  const upstream = randomArray(2, () => random.nextFloat());
  const workspace = createMlpWorkspace(layout);
  const loss = () => weightedSum(mlpForward(layout, parameters, input, workspace), upstream);
  loss();
  const parameterGradients = new Float32Array(layout.parameterCount);
  const dInput = new Float32Array(4);
  mlpBackward(layout, parameters, workspace, upstream, parameterGradients, dInput);

  it('weight and bias gradients match finite differences', () => {
    // Small epsilon: a ReLU kink inside ±ε would make the difference quotient meaningless.
    expect(finiteDifferenceMismatches(parameters, parameterGradients, loss, { ...fdOptions, epsilon: 2e-3 })).toEqual([]);
  });

  it('input gradient matches finite differences', () => {
    expect(finiteDifferenceMismatches(input, dInput, loss, { ...fdOptions, epsilon: 2e-3 })).toEqual([]);
  });

  it('is a linear map without hidden layers', () => {
    const linear = resolveMlpLayout({ inputDim: 3, outputDim: 2 });
    const weights = new Float32Array([1, 2, 3, -1, 0, 1, 0.5, -0.5]);
    const out = mlpForward(linear, weights, new Float32Array([1, -1, 2]), createMlpWorkspace(linear));
    expect(Array.from(out)).toEqual([1 - 2 + 6 + 0.5, -1 + 0 + 2 - 0.5]);
  });
});

describe.each([
  // No fields: every feature pooled into one mean, the layout before field slots.
  ['full rank, no fields', 0, false, [], [0, 0, 0]],
  // Field 2 has no feature: its block stays zero; slot 3 (the rest) holds two rows.
  ['low rank with a dense input and field slots', 3, true, ['prev_action', 'tool', 'domain'], [3, 0, 3, 1]],
  ['full rank with field slots', 0, false, ['prev_action', 'last_outcome'], [1, 2, 1, 0, 2]],
] as const)('DCN scorer, %s', (_name, rank, denseInput, fields, slots) => {
  const dim = 4;
  const model = resolveDcnScorer({ dim, crossLayers: 2, rank, hidden: [6], denseInput, fields });
  const parameters = new Float32Array(model.parameterCount);
  initDcnScorer(model, parameters, 42);
  const random = splitmix32(77 + rank);
  const next = () => random.nextFloat();
  for (let i = 0; i < parameters.length; i++) if (parameters[i] === 0) parameters[i] = 0.1 * (next() - 0.5);
  // Rows one longer than dim (FM layout): the trailing element must be ignored.
  const row = () => randomArray(dim + 1, next);
  const context: DcnContext = {
    user: row(),
    features: slots.map(() => row()),
    // Not all 1: a row's share of its slot's mean is its weight over the slot's row count.
    featureWeights: slots.map((_, i) => 1 - 0.2 * i),
    featureSlots: slots,
    featureCount: slots.length,
    dense: denseInput ? row() : undefined,
  };
  const candidates = [row(), row(), row()];
  const upstream = new Float32Array([0.6, 0, -0.9]);
  const workspace = createDcnScorerWorkspace(model, 4);
  const scores = new Float32Array(3);
  const loss = () => {
    dcnScorerForward(model, parameters, workspace, context, candidates, scores);
    return weightedSum(scores, upstream);
  };
  loss();
  const parameterGradients = new Float32Array(model.parameterCount);
  const grads = {
    user: new Float32Array(dim + 1).fill(9),
    features: context.features.map(() => new Float32Array(dim + 1)),
    candidates: candidates.map(() => new Float32Array(dim + 1).fill(9)),
    dense: denseInput ? new Float32Array(dim + 1) : undefined,
  };
  dcnScorerBackward(model, parameters, workspace, context, upstream, parameterGradients, grads, 3);
  const options = { ...fdOptions, epsilon: 2e-3 };

  it('dense parameter gradients match finite differences', () => {
    expect(finiteDifferenceMismatches(parameters, parameterGradients, loss, options)).toEqual([]);
  });

  it('user, feature and candidate row gradients match finite differences; the extra element is ignored', () => {
    expect(finiteDifferenceMismatches(context.user, grads.user, loss, options)).toEqual([]);
    context.features.forEach((f, i) => expect(finiteDifferenceMismatches(f, grads.features[i], loss, options)).toEqual([]));
    candidates.forEach((c, i) => {
      const expected = upstream[i] === 0 ? new Float32Array(dim + 1) : grads.candidates[i];
      expect(finiteDifferenceMismatches(c, expected, loss, options)).toEqual([]);
    });
    if (context.dense && grads.dense) expect(finiteDifferenceMismatches(context.dense, grads.dense, loss, options)).toEqual([]);
    expect(grads.user[dim]).toBe(0);
    // Candidate 1 has dScore 0: skipped, its gradient row is left as it was.
    expect(Array.from(grads.candidates[1])).toEqual([9, 9, 9, 9, 9]);
    expect(grads.candidates[0].some((g) => g !== 0)).toBe(true);
  });

  it('builds x0 as [user | one mean per field slot | the rest | candidate | dense?]', () => {
    loss();
    const x0 = workspace.inputs.subarray(model.inputDim, 2 * model.inputDim); // candidate 1's
    expect(model.inputDim).toBe((fields.length + 3 + (denseInput ? 1 : 0)) * dim);
    for (let s = 0; s <= fields.length; s++) {
      const members = slots.flatMap((slot, i) => (slot === s ? [i] : []));
      for (let k = 0; k < dim; k++) {
        const mean = members.reduce((sum, i) => sum + context.featureWeights[i] * context.features[i][k], 0) / Math.max(1, members.length);
        expect(x0[dim * (1 + s) + k]).toBeCloseTo(mean, 6);
      }
    }
    for (let k = 0; k < dim; k++) {
      expect(x0[k]).toBeCloseTo(context.user[k], 6);
      expect(x0[model.candidateOffset + k]).toBeCloseTo(candidates[1][k], 6);
      if (context.dense) expect(x0[model.denseOffset + k]).toBeCloseTo(context.dense[k], 6);
    }
  });

  it('refuses a feature slot the model does not have', () => {
    const bad = { ...context, featureSlots: slots.map(() => fields.length + 1) };
    expect(() => dcnScorerForward(model, parameters, workspace, bad, candidates, scores)).toThrow(RangeError);
  });

  it('initialises the same parameters from the same seed', () => {
    const again = new Float32Array(model.parameterCount);
    const other = new Float32Array(model.parameterCount);
    initDcnScorer(model, again, 42);
    initDcnScorer(model, other, 43);
    const reference = new Float32Array(model.parameterCount);
    initDcnScorer(model, reference, 42);
    expect(again).toEqual(reference);
    expect(other).not.toEqual(reference);
  });
});

describe('DCN scorer config', () => {
  it('rejects bad values with their JSON pointer', () => {
    expect(() => resolveDcnScorer({ dim: 8, crossLayers: 1.5 })).toThrow('/interact/dcn/crossLayers');
    expect(() => resolveDcnScorer({ dim: 8, hidden: [4, -1] })).toThrow('/interact/dcn/hidden/1');
    expect(() => resolveDcnScorer({ dim: 8, widht: 3 })).toThrow('/interact/dcn/widht');
    expect(() => resolveDcnScorer({ dim: 8, fields: 'tool' })).toThrow('/interact/dcn/fields');
    expect(() => resolveDcnScorer({ dim: 8, fields: ['tool', ''] })).toThrow('/interact/dcn/fields/1');
    expect(() => resolveDcnScorer({ dim: 8, fields: ['tool', 'tool'] })).toThrow("/interact/dcn/fields/1: 'tool' is listed twice");
    expect(() => resolveDcnScorer({ dim: 8, fields: ['tool=git'] })).toThrow('/interact/dcn/fields/0');
    expect(() => resolveDcnScorer({ dim: 8, fields: Array.from({ length: MAX_DCN_FIELDS + 1 }, (_, i) => `f${i}`) })).toThrow('at most');
  });

  it('pools every feature by default, and its width follows from the fields', () => {
    expect(resolveDcnScorer({ dim: 8 }).fields).toEqual(DEFAULT_DCN_FIELDS);
    expect(resolveDcnScorer({ dim: 8 }).inputDim).toBe(3 * 8);
    expect(resolveDcnScorer({ dim: 8, fields: TRAJECTORY_DCN_FIELDS }).inputDim).toBe((TRAJECTORY_DCN_FIELDS.length + 3) * 8);
    expect(resolveDcnScorer({ dim: 8, fields: ['tool'], denseInput: true })).toMatchObject({
      inputDim: 5 * 8,
      candidateOffset: 24,
      denseOffset: 32,
    });
  });
});
