/**
 * Factorization machine over one context and a set of candidate actions.
 *
 * Row layout: an FM row is `dim + 1` floats — the `dim` factor components followed by the row's
 * linear weight at index `dim` (fmRowLength(dim)). Keeping the linear term inside the row means a
 * row is one store value and one optimizer call, and its gradient has the same shape.
 *
 * Context i = (row v_i, weight x_i): the user's row (x=1), each sparse feature row (x=1), n-gram
 * rows (x=1/n), a projected dense vector (x=1; give it a zero linear element). Candidate c = row a_c
 * (weight 1). The score of c is the FM over the context plus that candidate:
 *
 *   score_c = bias + Σ x_i w_i + w_c + Σ_{i<j} x_i x_j <v_i, v_j> + Σ_i x_i <v_i, a_c>
 *           = const + w_c + <S, a_c>,   S = Σ x_i v_i,  Q = Σ x_i² ||v_i||²,
 *   const   = bias + Σ x_i w_i + ½(||S||² − Q)            (the sum-square identity)
 *
 * so the context costs O(n·d) once per event and each candidate O(d).
 *
 * Gradients (g_c = dLoss/dScore_c, G = Σ g_c, A = Σ g_c a_c):
 *   dv_i = x_i (G (S − x_i v_i) + A)      dw_i = x_i G
 *   da_c = g_c S                          dw_c = g_c          dBias = G
 */

/** Length of an FM row: factors plus the trailing linear weight. */
export function fmRowLength(dim: number): number {
  return dim + 1;
}

/** Per-task scratch for one event: sums over the context and the candidate-gradient sum. */
export interface FmWorkspace {
  readonly dim: number;
  /** S = Σ x_i v_i (float64 so long contexts do not lose the small rows). */
  readonly contextSum: Float64Array;
  /** Scratch for fmBackward: A = Σ_c g_c a_c, then G·S + A. */
  readonly candidateGradientSum: Float64Array;
  /** bias + Σ x_i w_i + ½(||S||² − Q): the part of every candidate's score that does not depend on it. */
  contextConstant: number;
}

export function createFmWorkspace(dim: number): FmWorkspace {
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`FM dim must be an integer > 0, got ${dim}`);
  return { dim, contextSum: new Float64Array(dim), candidateGradientSum: new Float64Array(dim), contextConstant: 0 };
}

/**
 * Computes S and the context constant for the first `count` context rows. Must run before
 * fmScore/fmBackward for the same event.
 */
export function fmPrepareContext(
  workspace: FmWorkspace,
  bias: number,
  rows: readonly Float32Array[],
  weights: ArrayLike<number>,
  count: number = rows.length,
): void {
  const dim = workspace.dim;
  const sum = workspace.contextSum;
  sum.fill(0);
  let linear = 0;
  let weightedSquaredNorms = 0;
  for (let i = 0; i < count; i++) {
    const row = rows[i];
    const x = weights[i];
    let norm0 = 0;
    let norm1 = 0;
    let k = 0;
    for (; k + 1 < dim; k += 2) {
      const v0 = row[k];
      const v1 = row[k + 1];
      sum[k] += x * v0;
      sum[k + 1] += x * v1;
      norm0 += v0 * v0;
      norm1 += v1 * v1;
    }
    for (; k < dim; k++) {
      const value = row[k];
      sum[k] += x * value;
      norm0 += value * value;
    }
    weightedSquaredNorms += x * x * (norm0 + norm1);
    linear += x * row[dim];
  }
  let sumSquaredNorm = 0;
  for (let k = 0; k < dim; k++) sumSquaredNorm += sum[k] * sum[k];
  workspace.contextConstant = bias + linear + 0.5 * (sumSquaredNorm - weightedSquaredNorms);
}

/** scores[c] = const + w_c + <S, a_c> for the first `count` candidates. */
export function fmScore(
  workspace: FmWorkspace,
  candidates: readonly Float32Array[],
  scores: Float32Array,
  count: number = candidates.length,
): void {
  const dim = workspace.dim;
  const sum = workspace.contextSum;
  const constant = workspace.contextConstant;
  for (let c = 0; c < count; c++) {
    const candidate = candidates[c];
    // Four accumulators: one running sum would be bound by add latency (see dotAt).
    let s0 = constant + candidate[dim];
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let k = 0;
    for (; k + 3 < dim; k += 4) {
      s0 += sum[k] * candidate[k];
      s1 += sum[k + 1] * candidate[k + 1];
      s2 += sum[k + 2] * candidate[k + 2];
      s3 += sum[k + 3] * candidate[k + 3];
    }
    for (; k < dim; k++) s0 += sum[k] * candidate[k];
    scores[c] = s0 + s1 + s2 + s3;
  }
}

/** Scores one candidate without the per-candidate array plumbing (e.g. a feedback replay). */
export function fmScoreOne(workspace: FmWorkspace, candidate: Float32Array): number {
  const dim = workspace.dim;
  const sum = workspace.contextSum;
  let score = workspace.contextConstant + candidate[dim];
  for (let k = 0; k < dim; k++) score += sum[k] * candidate[k];
  return score;
}

/**
 * Overwrites contextGradients[i] with the loss gradient of every context row and
 * candidateGradients[c] with that of every judged candidate (all `dim + 1` long, linear term
 * last), given dScores[c] = dLoss/dScore_c. Returns dLoss/dBias.
 *
 * candidateGradients[c] is written only where dScores[c] !== 0 and is left as it was otherwise:
 * a logistic or squared loss involves one candidate of twenty, and zeroing the other nineteen rows
 * cost more than the whole useful backward. The caller updates only candidates with dScores[c] !== 0
 * (it must skip the others anyway: an optimizer step with L2 would shrink rows the event never
 * judged). A row that appears twice in the context must be passed once with its weights summed,
 * or the caller must add the two gradients.
 */
export function fmBackward(
  workspace: FmWorkspace,
  rows: readonly Float32Array[],
  weights: ArrayLike<number>,
  candidates: readonly Float32Array[],
  dScores: ArrayLike<number>,
  contextGradients: readonly Float32Array[],
  candidateGradients: readonly Float32Array[],
  contextCount: number = rows.length,
  candidateCount: number = candidates.length,
): number {
  const dim = workspace.dim;
  const sum = workspace.contextSum;
  const gradientSum = workspace.candidateGradientSum;
  gradientSum.fill(0);
  let total = 0;
  for (let c = 0; c < candidateCount; c++) {
    const g = dScores[c];
    if (g === 0) continue;
    const out = candidateGradients[c];
    const candidate = candidates[c];
    for (let k = 0; k < dim; k++) {
      gradientSum[k] += g * candidate[k];
      out[k] = g * sum[k];
    }
    out[dim] = g;
    total += g;
  }
  // dv_i = x_i·(G·S + A) − x_i²·G·v_i: the bracket is the same for every context row.
  const shared = gradientSum;
  for (let k = 0; k < dim; k++) shared[k] += total * sum[k];
  for (let i = 0; i < contextCount; i++) {
    const row = rows[i];
    const x = weights[i];
    const self = x * x * total;
    const out = contextGradients[i];
    for (let k = 0; k < dim; k++) out[k] = x * shared[k] - self * row[k];
    out[dim] = x * total;
  }
  return total;
}
