/**
 * Losses over one request's candidate scores. Each writes dLoss/dScore for the first `count`
 * candidates into `dScores` (zero for candidates the loss does not involve) and returns the loss.
 *
 * `sampleWeight` scales loss and gradient together: real feedback 1, simulated feedback lower.
 * L2 regularisation is NOT applied here: it belongs to the optimizer, which applies it lazily to
 * the rows an event touches (a loss-side L2 would have to touch every row of the model).
 */

/** log(1 + e^s) without overflow for large |s|. */
export function softplus(score: number): number {
  return score > 0 ? score + Math.log1p(Math.exp(-score)) : Math.log1p(Math.exp(score));
}

/** σ(s) without overflow for large |s|. */
export function sigmoid(score: number): number {
  if (score >= 0) return 1 / (1 + Math.exp(-score));
  const e = Math.exp(score);
  return e / (1 + e);
}

/**
 * Binary cross-entropy on one candidate's score (accept = 1 / reject = 0; a soft label in [0, 1]
 * also works): loss = w·(softplus(s) − y·s), dLoss/ds = w·(σ(s) − y).
 */
export function logisticLoss(
  scores: ArrayLike<number>,
  index: number,
  label: number,
  sampleWeight: number,
  dScores: Float32Array,
  count: number = scores.length,
): number {
  dScores.fill(0, 0, count);
  const score = scores[index];
  dScores[index] = sampleWeight * (sigmoid(score) - label);
  return sampleWeight * (softplus(score) - label * score);
}

/**
 * Squared error on one candidate's score against a numeric target (e.g. a 1–5 star rating):
 * loss = w·½(s − y)², dLoss/ds = w·(s − y). `errorClip` bounds |s − y| in the gradient (a Huber
 * loss beyond it) so one wild early score cannot blow up the touched rows.
 */
export function squaredLoss(
  scores: ArrayLike<number>,
  index: number,
  target: number,
  sampleWeight: number,
  dScores: Float32Array,
  count: number = scores.length,
  errorClip = Infinity,
): number {
  dScores.fill(0, 0, count);
  const error = scores[index] - target;
  const absError = Math.abs(error);
  if (absError <= errorClip) {
    dScores[index] = sampleWeight * error;
    return sampleWeight * 0.5 * error * error;
  }
  dScores[index] = sampleWeight * (error > 0 ? errorClip : -errorClip);
  return sampleWeight * errorClip * (absError - 0.5 * errorClip);
}

/**
 * Softmax cross-entropy over all `count` candidates with `chosen` the one the user picked:
 * loss = w·(logΣ e^{s_c} − s_chosen), dLoss/ds_c = w·(softmax_c − [c = chosen]).
 */
export function softmaxCrossEntropyLoss(
  scores: ArrayLike<number>,
  chosen: number,
  sampleWeight: number,
  dScores: Float32Array,
  count: number = scores.length,
): number {
  let max = -Infinity;
  for (let c = 0; c < count; c++) if (scores[c] > max) max = scores[c];
  let partition = 0;
  for (let c = 0; c < count; c++) partition += Math.exp(scores[c] - max);
  const logPartition = max + Math.log(partition);
  for (let c = 0; c < count; c++) dScores[c] = sampleWeight * Math.exp(scores[c] - logPartition);
  dScores[chosen] -= sampleWeight;
  return sampleWeight * (logPartition - scores[chosen]);
}
