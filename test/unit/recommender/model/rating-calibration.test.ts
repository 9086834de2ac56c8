import { describe, expect, it } from 'vitest';
import { StateError } from '../../../../src/errors.js';
import { splitmix32 } from '../../../../src/recommender/model/kernels/prng.js';
import { ModelTask } from '../../../../src/recommender/model/model-task.js';
import { RatingCalibration } from '../../../../src/recommender/model/rating-calibration.js';
import { ratingFromScore, ratingReadout, readRating } from '../../../../src/recommender/model/rating-readout.js';
import { recommenderModel } from '../../../../src/recommender/model/recommender-model.js';
import { MemoryStore } from '../../../../src/state/memory-store.js';

/** Feeds `n` ratings of 3 + f(x) + noise for scores x spread over ±3; returns both readouts' prequential MAE. */
function feed(calibration: RatingCalibration, n: number, f: (x: number) => number): { plain: number; read: number } {
  const random = splitmix32(5);
  let plain = 0;
  let read = 0;
  for (let i = 0; i < n; i++) {
    const x = (random.nextFloat() - 0.5) * 6;
    const rating = 3 + f(x) + (random.nextFloat() - 0.5);
    plain += Math.abs(3 + x - rating);
    read += Math.abs(3 + calibration.intercept + calibration.slope * x - rating);
    calibration.observe(x, 3, rating);
  }
  return { plain: plain / n, read: read / n };
}

describe('rating calibration (a fitted linear readout of scores as ratings)', () => {
  it('fits scores that overstate the ratings, and reads them better than the plain readout', () => {
    const calibration = new RatingCalibration(true);
    const { plain, read } = feed(calibration, 5000, (x) => 0.3 * x + 0.5);
    expect(calibration.fitted).toBe(true);
    expect(calibration.slope).toBeGreaterThan(0.25);
    expect(calibration.slope).toBeLessThan(0.35);
    expect(calibration.intercept).toBeGreaterThan(0.4);
    expect(calibration.intercept).toBeLessThan(0.6);
    expect(read).toBeLessThan(plain * 0.6);
    expect(calibration.observed).toBe(5000);
  });

  it('keeps the plain readout while it predicts as well (scores fitted to the ratings already)', () => {
    const calibration = new RatingCalibration(true);
    feed(calibration, 5000, (x) => x);
    expect(calibration.fitted).toBe(false);
    expect(calibration.slope).toBe(1);
    expect(calibration.intercept).toBe(0);
  });

  it('never reads a higher score as a lower rating', () => {
    const calibration = new RatingCalibration(true);
    feed(calibration, 3000, (x) => -x);
    expect(calibration.slope).toBeGreaterThanOrEqual(0);
  });

  it('does nothing when switched off, and round-trips through its stored bytes', () => {
    const off = new RatingCalibration(false);
    feed(off, 100, (x) => 0.3 * x);
    expect(off.observed).toBe(0);
    const a = new RatingCalibration(true);
    feed(a, 500, (x) => 0.3 * x);
    const b = new RatingCalibration(true);
    b.load(a.bytes(), 'test');
    expect([b.slope, b.intercept, b.fitted, b.observed]).toEqual([a.slope, a.intercept, a.fitted, a.observed]);
    expect(() => b.load(Buffer.alloc(40), "model 'rec' partition 0")).toThrow(StateError);
  });

  it('travels in the model version as a slope after the rating range; older versions read with slope 1', () => {
    expect(ratingReadout('fm-d32/p0/u7/r3.2:1:5')).toEqual({ center: 3.2, min: 1, max: 5, slope: 1 });
    const readout = ratingReadout('fm-d32/p0/u7/a1:0/r3.2:1:5:0.25')!;
    expect(readout.slope).toBe(0.25);
    expect(readRating(readout, 2)).toBeCloseTo(3.7, 10);
    expect(readRating(readout, 2, 0.5)).toBeCloseTo(4.2, 10);
    expect(readRating(readout, 100)).toBe(5);
    expect(ratingReadout('fm-d32/p0/u7/r3.2:1:5:-1')).toBeUndefined();
  });

  it('a model task fits it from ratings, reads ratings and writes its version through it, and stores it', async () => {
    const store = new MemoryStore();
    const task = new ModelTask(recommenderModel({ name: 'rec', dim: 4 }), store, new MemoryStore('requests'), 0);
    await task.ensureLoaded();
    // Scores of ±4 for ratings of 4 and 2 (centre 3): the plain readout reads 7 and −1, a slope of 1/4 reads them right.
    for (let i = 0; i < 400; i++) {
      const [score, stars] = i % 2 ? [4, 4] : [-4, 2];
      task.calibrateRating(stars, score);
      task.observeRating(stars);
    }
    expect(task.ratingCalibration.fitted).toBe(true);
    expect(task.ratingCalibration.slope).toBeGreaterThan(0.2);
    expect(task.ratingCalibration.slope).toBeLessThan(0.3);
    expect(task.ratingOf(1)).toBeCloseTo(3 + task.ratingCalibration.slope, 1);
    expect(ratingFromScore(task.version, 1)).toBeCloseTo(task.ratingOf(1)!, 4);
    await task.saveDense();
    const reopened = new ModelTask(recommenderModel({ name: 'rec', dim: 4 }), store, new MemoryStore('requests'), 0);
    await reopened.ensureLoaded();
    expect(reopened.ratingCalibration.slope).toBe(task.ratingCalibration.slope);
    const off = new ModelTask(
      recommenderModel({ name: 'rec', dim: 4, rating: { calibration: false } }),
      new MemoryStore(),
      new MemoryStore('requests'),
      0,
    );
    await off.ensureLoaded();
    off.calibrateRating(4, 4);
    off.observeRating(4);
    expect(ratingReadout(off.version)!.slope).toBe(1);
  });
});
