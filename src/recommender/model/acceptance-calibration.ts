import { float64StateBytes, loadFloat64State } from './float64-state.js';
import { sigmoid } from './kernels/losses.js';

/** How a model version says scores read as acceptance probabilities: σ(slope · score + intercept). */
export interface AcceptanceReadout {
  slope: number;
  intercept: number;
}

/**
 * Platt scaling of a task's scores for accept/reject feedback, learned online. One score per
 * candidate serves the ranking (softmax over CHOSEN), the acceptance logit and the rating, and
 * what ranks a tool first is not what makes it accepted: on the transcript fixture the candidate
 * crosses pushed the logits of likely-next tools up, and the model's log loss on rewards fell
 * behind per-user popularity's although it ranked them better (bench/README.md, "Acceptance
 * calibration"). So each ACCEPT/LIKE (1) or REJECT/DISLIKE/CORRECTION (0) also takes one AdaGrad
 * step on log loss of σ(slope · score + intercept), with the score as it was before the model
 * learned from that feedback (prequential). Slope starts at 1 and intercept at 0: the identity
 * until the first binary feedback. Ranking is untouched (the map is increasing while slope > 0).
 */
export class AcceptanceCalibration {
  /** Binary feedback observed, slope, intercept, and the two AdaGrad accumulators. */
  private readonly state = Float64Array.of(0, 1, 0, 0, 0);
  dirty = false;

  constructor(private readonly learningRate: number) {}

  get observed(): number {
    return this.state[0];
  }

  get readout(): AcceptanceReadout {
    return { slope: this.state[1], intercept: this.state[2] };
  }

  /** One step on the log loss of `label` (0 or 1) given the pre-update `score`, scaled by `weight`. */
  observe(score: number, label: number, weight = 1): void {
    if (!Number.isFinite(score) || !(weight > 0)) return;
    const s = this.state;
    const p = sigmoid(s[1] * score + s[2]);
    const gSlope = weight * (p - label) * score;
    const gIntercept = weight * (p - label);
    s[3] += gSlope * gSlope;
    s[4] += gIntercept * gIntercept;
    s[1] -= (this.learningRate * gSlope) / Math.sqrt(s[3] + 1e-8);
    s[2] -= (this.learningRate * gIntercept) / Math.sqrt(s[4] + 1e-8);
    // A slope at or below 0 would reverse or flatten the ranking the probabilities are read from.
    if (s[1] < 1e-3) s[1] = 1e-3;
    s[0]++;
    this.dirty = true;
  }

  /** `/a<slope>:<intercept>` for the model version, once any binary feedback was seen ('' before). */
  versionPart(): string {
    if (this.state[0] === 0) return '';
    return `/a${+this.state[1].toPrecision(6)}:${+this.state[2].toPrecision(6)}`;
  }

  bytes(): Buffer {
    return float64StateBytes(this.state);
  }

  load(bytes: Buffer, describe: string): void {
    loadFloat64State(this.state, bytes, 'acceptance calibration', describe);
  }
}

/**
 * The acceptance readout a model version carries (`…/a<slope>:<intercept>/…`), or undefined when
 * it carries none (no binary feedback yet): then σ(score) is the probability.
 */
export function acceptanceReadout(modelVersion: string): AcceptanceReadout | undefined {
  const at = modelVersion.indexOf('/a');
  if (at < 0) return undefined;
  const end = modelVersion.indexOf('/', at + 2);
  const [slope, intercept] = modelVersion
    .slice(at + 2, end < 0 ? undefined : end)
    .split(':')
    .map(Number);
  if (!(slope > 0) || !Number.isFinite(intercept)) return undefined;
  return { slope, intercept };
}

/** The probability that a candidate with `score` is accepted, read through the version's readout (σ(score) without one). */
export function acceptanceProbability(readout: AcceptanceReadout | undefined, score: number): number {
  return sigmoid(readout ? readout.slope * score + readout.intercept : score);
}
