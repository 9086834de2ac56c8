import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../../src/errors.js';
import {
  ADAGRAD_SLOT_COUNT,
  FTRL_SLOT_COUNT,
  adagradUpdate,
  adamUpdate,
  createAdamState,
  ftrlUpdate,
  resolveAdagradConfig,
  resolveAdamConfig,
  resolveFtrlConfig,
} from '../../../../../src/recommender/model/kernels/optimizers.js';
import { splitmix32 } from '../../../../../src/recommender/model/kernels/prng.js';

const dim = 8;

/** Least squares y = <w*, x> with a few exactly-zero true weights. */
function regressionProblem(seed: number) {
  const random = splitmix32(seed);
  const target = new Float32Array([1.5, -2, 0, 0.8, 0, 0, -0.6, 0]);
  const samples = Array.from({ length: 64 }, () => {
    const x = new Float32Array(dim);
    for (let k = 0; k < dim; k++) x[k] = random.nextGaussian();
    let y = 0;
    for (let k = 0; k < dim; k++) y += target[k] * x[k];
    return { x, y };
  });
  const loss = (w: Float32Array) => {
    let total = 0;
    for (const { x, y } of samples) {
      let p = 0;
      for (let k = 0; k < dim; k++) p += w[k] * x[k];
      total += 0.5 * (p - y) ** 2;
    }
    return total / samples.length;
  };
  const gradient = (w: Float32Array, sample: { x: Float32Array; y: number }, out: Float32Array) => {
    let p = 0;
    for (let k = 0; k < dim; k++) p += w[k] * sample.x[k];
    for (let k = 0; k < dim; k++) out[k] = (p - sample.y) * sample.x[k];
  };
  return { target, samples, loss, gradient };
}

function train(step: (w: Float32Array, g: Float32Array) => void, initial: Float32Array, epochs = 30) {
  const { samples, loss, gradient } = regressionProblem(3);
  const w = initial.slice();
  const g = new Float32Array(dim);
  const before = loss(w);
  for (let e = 0; e < epochs; e++) {
    for (const sample of samples) {
      gradient(w, sample, g);
      step(w, g);
    }
  }
  return { w, before, after: loss(w) };
}

const start = new Float32Array([0.1, -0.05, 0.02, 0.3, -0.2, 0.04, 0.01, -0.1]);

describe('optimizers reduce a convex loss', () => {
  it('sparse-row AdaGrad', () => {
    const slots = new Float32Array(ADAGRAD_SLOT_COUNT * dim);
    const config = resolveAdagradConfig({ learningRate: 0.3 });
    const { before, after } = train((w, g) => adagradUpdate(w, slots, g, config), start);
    expect(after).toBeLessThan(0.01 * before);
  });

  it('FTRL-Proximal', () => {
    const slots = new Float32Array(FTRL_SLOT_COUNT * dim);
    const config = resolveFtrlConfig({ learningRate: 0.5, beta: 1 });
    const { before, after } = train((w, g) => ftrlUpdate(w, slots, g, config), start);
    expect(after).toBeLessThan(0.01 * before);
  });

  it('dense Adam', () => {
    const state = createAdamState(dim);
    const config = resolveAdamConfig({ learningRate: 0.05 });
    const { before, after } = train((w, g) => adamUpdate(w, state, g, config), start);
    expect(after).toBeLessThan(0.01 * before);
    expect(state.step).toBe(30 * 64);
  });
});

describe('FTRL-Proximal', () => {
  it('l1 drives the irrelevant weights to exactly zero and keeps the relevant ones', () => {
    const slots = new Float32Array(FTRL_SLOT_COUNT * dim);
    const config = resolveFtrlConfig({ learningRate: 0.5, beta: 1, l1: 1 });
    const { target } = regressionProblem(3);
    const { w } = train((weights, g) => ftrlUpdate(weights, slots, g, config), start);
    const plainSlots = new Float32Array(FTRL_SLOT_COUNT * dim);
    const plain = train((weights, g) => ftrlUpdate(weights, plainSlots, g, resolveFtrlConfig({ learningRate: 0.5, beta: 1 })), start);
    for (let k = 0; k < dim; k++) {
      if (target[k] === 0) {
        expect(w[k]).toBe(0);
        expect(plain.w[k]).not.toBe(0);
      } else {
        expect(Math.sign(w[k])).toBe(Math.sign(target[k]));
      }
    }
  });

  it('keeps a fresh row’s initial values on its first update instead of resetting them', () => {
    const values = new Float32Array([0.3, -0.2, 0.05, 0]);
    const slots = new Float32Array(FTRL_SLOT_COUNT * 4);
    ftrlUpdate(values, slots, new Float32Array(4), resolveFtrlConfig({ l1: 0.01, l2: 0.1 }));
    expect(values[0]).toBeCloseTo(0.3, 6);
    expect(values[1]).toBeCloseTo(-0.2, 6);
    expect(values[2]).toBeCloseTo(0.05, 6);
    ftrlUpdate(values, slots, new Float32Array([1e-3, 1e-3, 1e-3, 1e-3]), resolveFtrlConfig({}));
    expect(values[0]).toBeGreaterThan(0.29);
    expect(values[0]).toBeLessThan(0.3);
  });
});

describe('AdaGrad', () => {
  it('accumulators grow with every update and the step size shrinks', () => {
    const values = new Float32Array(2);
    const slots = new Float32Array(2);
    const config = resolveAdagradConfig({ learningRate: 0.1 });
    const gradient = new Float32Array([0.5, -0.2]);
    let previousAccumulator = 0;
    let previousStep = Infinity;
    for (let t = 0; t < 5; t++) {
      const before = values[0];
      adagradUpdate(values, slots, gradient, config);
      expect(slots[0]).toBeGreaterThan(previousAccumulator);
      const step = Math.abs(values[0] - before);
      expect(step).toBeLessThan(previousStep);
      previousAccumulator = slots[0];
      previousStep = step;
    }
    expect(slots[1]).toBeCloseTo(5 * 0.04, 5);
  });

  it('clips each gradient coordinate and applies L2 only to touched coordinates', () => {
    const values = new Float32Array([1, 1]);
    const slots = new Float32Array(2);
    adagradUpdate(values, slots, new Float32Array([1e6, 0]), resolveAdagradConfig({ gradientClip: 2, l2: 0.5 }), 2);
    expect(slots[0]).toBeCloseTo((2 + 0.5) ** 2, 4);
    expect(slots[1]).toBeCloseTo(0.25, 5);
    const untouched = new Float32Array([1, 1]);
    adagradUpdate(untouched, new Float32Array(2), new Float32Array([0.1, 0.1]), resolveAdagradConfig({ l2: 0.5 }), 1);
    expect(untouched[1]).toBe(1);
  });
});

describe('optimizer configs', () => {
  it('reject invalid values with the JSON pointer of the field', () => {
    expect(() => resolveAdagradConfig({ learningRate: -1 })).toThrow(ConfigError);
    expect(() => resolveAdagradConfig({ learningRate: -1 })).toThrow('/update/learningRate');
    expect(() => resolveFtrlConfig({ l1: -0.1 }, '/operators/update')).toThrow('/operators/update/l1');
    expect(() => resolveAdamConfig({ beta2: 1 })).toThrow('/update/dense/beta2');
    expect(() => resolveAdagradConfig({ learningrate: 0.1 })).toThrow('/update/learningrate');
    expect(() => resolveAdagradConfig('fast')).toThrow('/update');
  });

  it('fill defaults', () => {
    const config = resolveFtrlConfig(undefined);
    expect(config.l1).toBe(0);
    expect(config.learningRate).toBeGreaterThan(0);
    expect(Object.isFrozen(config)).toBe(true);
  });
});
