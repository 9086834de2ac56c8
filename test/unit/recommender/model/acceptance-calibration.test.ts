import { describe, expect, it } from 'vitest';
import { StateError } from '../../../../src/errors.js';
import {
  AcceptanceCalibration,
  acceptanceProbability,
  acceptanceReadout,
} from '../../../../src/recommender/model/acceptance-calibration.js';
import { ratingReadout } from '../../../../src/recommender/model/rating-readout.js';
import { splitmix32 } from '../../../../src/recommender/model/kernels/prng.js';
import { ModelTask } from '../../../../src/recommender/model/model-task.js';
import { recommenderModel } from '../../../../src/recommender/model/recommender-model.js';
import { MemoryStore } from '../../../../src/state/memory-store.js';

const logLoss = (p: number, label: number) => -Math.log(label ? p : 1 - p);

describe('acceptance calibration (online Platt scaling)', () => {
  it('learns how overconfident scores read as probabilities, and beats σ(score) on log loss', () => {
    // Scores twice as confident as the truth and shifted: P(accept) = σ(0.5 · score − 1).
    const random = splitmix32(11);
    const calibration = new AcceptanceCalibration(0.05);
    let plain = 0;
    let calibrated = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const score = (random.nextFloat() - 0.5) * 12;
      const label = random.nextFloat() < 1 / (1 + Math.exp(-(0.5 * score - 1))) ? 1 : 0;
      plain += logLoss(acceptanceProbability(undefined, score), label);
      // Prequential: judged by the readout before it learns from this feedback.
      calibrated += logLoss(acceptanceProbability(calibration.readout, score), label);
      calibration.observe(score, label);
    }
    expect(calibration.readout.slope).toBeGreaterThan(0.4);
    expect(calibration.readout.slope).toBeLessThan(0.6);
    expect(calibration.readout.intercept).toBeGreaterThan(-1.3);
    expect(calibration.readout.intercept).toBeLessThan(-0.7);
    expect(calibrated / n).toBeLessThan((plain / n) * 0.9);
    expect(calibration.observed).toBe(n);
  });

  it('travels in the model version beside the rating readout, and is absent before any binary feedback', () => {
    const calibration = new AcceptanceCalibration(0.05);
    expect(calibration.versionPart()).toBe('');
    expect(acceptanceReadout('fm-d32/p0/u3')).toBeUndefined();
    calibration.observe(4, 0);
    const version = `fm-d32/p0/u7${calibration.versionPart()}/r3.5:1:5`;
    expect(version).toMatch(/^fm-d32\/p0\/u7\/a[\d.]+:-?[\d.e-]+\/r3\.5:1:5$/);
    const readout = acceptanceReadout(version)!;
    expect(readout.slope).toBeCloseTo(calibration.readout.slope, 5);
    expect(readout.intercept).toBeCloseTo(calibration.readout.intercept, 5);
    expect(readout.slope).toBeLessThan(1); // a confident score that was rejected flattens the slope
    expect(ratingReadout(version)).toEqual({ center: 3.5, min: 1, max: 5, slope: 1 });
    expect(acceptanceProbability(readout, 2)).toBeLessThan(acceptanceProbability(undefined, 2));
  });

  it('keeps the slope positive, so the ranking the probabilities come from is never reversed', () => {
    const calibration = new AcceptanceCalibration(1);
    // Confident scores always rejected, low ones always accepted: the fit wants a negative slope.
    for (let i = 0; i < 2000; i++) calibration.observe(i % 2 ? 5 : -5, i % 2 ? 0 : 1);
    expect(calibration.readout.slope).toBeGreaterThan(0);
  });

  it('round-trips through its stored bytes and refuses bytes of another size', () => {
    const a = new AcceptanceCalibration(0.05);
    a.observe(1.5, 1);
    a.observe(-2, 0);
    const b = new AcceptanceCalibration(0.05);
    b.load(a.bytes(), 'test');
    expect(b.readout).toEqual(a.readout);
    expect(b.observed).toBe(2);
    expect(b.versionPart()).toBe(a.versionPart());
    expect(() => b.load(Buffer.alloc(8), "model 'rec' partition 0")).toThrow(StateError);
  });

  it('a model task steps it on binary feedback only, stores it with its weights, and can be switched off', async () => {
    const store = new MemoryStore();
    const task = new ModelTask(recommenderModel({ name: 'rec', dim: 4 }), store, new MemoryStore('requests'), 0);
    await task.ensureLoaded();
    task.observeAcceptance('CHOSEN', 3, 1);
    task.observeAcceptance('RATING', 3, 1);
    expect(acceptanceReadout(task.version)).toBeUndefined();
    task.observeAcceptance('REJECT', 3, 1);
    task.observeAcceptance('LIKE', -1, 1);
    const readout = acceptanceReadout(task.version)!;
    expect(readout.slope).toBeLessThan(1);
    await task.saveDense();
    const reopened = new ModelTask(recommenderModel({ name: 'rec', dim: 4 }), store, new MemoryStore('requests'), 0);
    await reopened.ensureLoaded();
    expect(reopened.acceptance.readout).toEqual(task.acceptance.readout);
    const off = new ModelTask(
      recommenderModel({ name: 'rec', dim: 4, acceptanceLearningRate: 0 }),
      new MemoryStore(),
      new MemoryStore('requests'),
      0,
    );
    await off.ensureLoaded();
    off.observeAcceptance('REJECT', 3, 1);
    expect(acceptanceReadout(off.version)).toBeUndefined();
  });
});
