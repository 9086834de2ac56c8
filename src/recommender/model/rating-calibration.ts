import { float64StateBytes, loadFloat64State } from './float64-state.js';

/** Weight of the plain readout (slope 1, intercept 0) in the fit, as that many ratings at x = 1 would have. */
const PRIOR_WEIGHT = 20;
/** Each rating's weight in the fit and the error tallies decays by this per later rating (~1,000 ratings' memory): scores drift as the model learns. */
const DECAY = 0.999;

/**
 * A linear readout of a task's scores as ratings, fitted online: rating ≈ centre + intercept +
 * slope · score / scale. One score per candidate serves the ranking (softmax over CHOSEN), the
 * acceptance logit and the rating; where ratings are a small share of the feedback, what the
 * ranking loss does to the scores swamps the rating regression, and reading them with slope 1
 * put the model's MAE on the simulator behind even the running mean of the ratings
 * (bench/README.md, "Rating calibration").
 *
 * Each rating, with the rated candidate's score from before the model learned from it
 * (prequential), updates a decayed least-squares fit of (rating − centre) on score / scale,
 * ridged towards the plain readout. Both readouts' absolute errors on each rating, taken before
 * the fit moves, are tallied the same decayed way, and the task reads scores with whichever
 * erred less: on a stream of ratings alone the scores are fitted to the ratings already and
 * the plain readout stays. The slope stays ≥ 0, so a higher score never reads as a lower rating.
 */
export class RatingCalibration {
  /** Ratings observed, fitted slope and intercept, decayed Σ1, Σx, Σx², Σy, Σxy (y: rating − centre), decayed |error| of the plain and the fitted readout. */
  private readonly state = Float64Array.of(0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  dirty = false;

  constructor(private readonly enabled: boolean) {}

  get observed(): number {
    return this.state[0];
  }

  /** Whether scores read through the fit: it erred less than the plain readout so far. */
  get fitted(): boolean {
    return this.state[9] < this.state[8];
  }

  get slope(): number {
    return this.fitted ? this.state[1] : 1;
  }

  get intercept(): number {
    return this.fitted ? this.state[2] : 0;
  }

  /** A rating, with x the rated candidate's pre-update score divided by the rating scale and the centre it was read with. */
  observe(x: number, center: number, rating: number): void {
    if (!this.enabled || !Number.isFinite(x)) return;
    const s = this.state;
    const y = rating - center;
    s[8] = DECAY * s[8] + Math.abs(x - y);
    s[9] = DECAY * s[9] + Math.abs(s[2] + s[1] * x - y);
    s[3] = DECAY * s[3] + 1;
    s[4] = DECAY * s[4] + x;
    s[5] = DECAY * s[5] + x * x;
    s[6] = DECAY * s[6] + y;
    s[7] = DECAY * s[7] + x * y;
    // (S + λI) θ = b + λ (0, 1): least squares ridged towards intercept 0, slope 1.
    const a00 = s[3] + PRIOR_WEIGHT;
    const a01 = s[4];
    const a11 = s[5] + PRIOR_WEIGHT;
    const b0 = s[6];
    const b1 = s[7] + PRIOR_WEIGHT;
    const slope = Math.max(0, (a00 * b1 - a01 * b0) / (a00 * a11 - a01 * a01));
    s[1] = slope;
    s[2] = (b0 - a01 * slope) / a00;
    s[0]++;
    this.dirty = true;
  }

  bytes(): Buffer {
    return float64StateBytes(this.state);
  }

  load(bytes: Buffer, describe: string): void {
    loadFloat64State(this.state, bytes, 'rating calibration', describe);
  }
}
