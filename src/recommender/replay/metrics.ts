/**
 * Prequential metrics, each an accumulator fed one prediction at a time (the prediction made
 * before the model or baseline learned from that feedback):
 * - chosen action among candidates (CHOSEN): hit@1, hit@3, MRR, NDCG@10 of the chosen one's rank;
 * - accept/reject (ACCEPT, LIKE = 1; REJECT, DISLIKE, CORRECTION = 0): AUC and log loss of the
 *   predicted probability;
 * - ratings (RATING): MAE and RMSE of the predicted rating, already on the rating scale.
 */

export interface RankingSummary {
  n: number;
  hitAt1: number;
  hitAt3: number;
  mrr: number;
  ndcgAt10: number;
}

export interface BinarySummary {
  n: number;
  /** Null when only one class was seen (AUC is undefined then). */
  auc: number | null;
  logLoss: number;
}

export interface RatingSummary {
  n: number;
  mae: number;
  rmse: number;
}

export interface MetricSummary {
  chosen: RankingSummary | null;
  binary: BinarySummary | null;
  rating: RatingSummary | null;
}

export class RankingMetrics {
  n = 0;
  private hits1 = 0;
  private hits3 = 0;
  private reciprocal = 0;
  private ndcg = 0;

  /** `rank` of the chosen action, 1 = best. */
  add(rank: number): void {
    this.n++;
    if (rank <= 1) this.hits1++;
    if (rank <= 3) this.hits3++;
    this.reciprocal += 1 / rank;
    // One relevant item: the ideal DCG is 1, so NDCG is its discounted gain.
    if (rank <= 10) this.ndcg += 1 / Math.log2(rank + 1);
  }

  summary(): RankingSummary | null {
    if (!this.n) return null;
    return {
      n: this.n,
      hitAt1: this.hits1 / this.n,
      hitAt3: this.hits3 / this.n,
      mrr: this.reciprocal / this.n,
      ndcgAt10: this.ndcg / this.n,
    };
  }
}

/** Probabilities are clipped to [EPSILON, 1 − EPSILON] for log loss, so one certain mistake stays finite. */
const EPSILON = 1e-7;

export class BinaryMetrics {
  private readonly probabilities: number[] = [];
  private readonly labels: number[] = [];
  private loss = 0;

  get n(): number {
    return this.labels.length;
  }

  add(probability: number, label: 0 | 1): void {
    const p = Math.min(1 - EPSILON, Math.max(EPSILON, probability));
    this.loss -= label ? Math.log(p) : Math.log(1 - p);
    this.probabilities.push(probability);
    this.labels.push(label);
  }

  summary(): BinarySummary | null {
    if (!this.n) return null;
    return { n: this.n, auc: auc(this.probabilities, this.labels), logLoss: this.loss / this.n };
  }
}

export class RatingMetrics {
  n = 0;
  private absolute = 0;
  private squared = 0;

  add(predicted: number, actual: number): void {
    const error = predicted - actual;
    this.n++;
    this.absolute += Math.abs(error);
    this.squared += error * error;
  }

  summary(): RatingSummary | null {
    if (!this.n) return null;
    return { n: this.n, mae: this.absolute / this.n, rmse: Math.sqrt(this.squared / this.n) };
  }
}

/** The three families for one predictor in one slice (overall, a source, a window). */
export class MetricSet {
  readonly chosen = new RankingMetrics();
  readonly binary = new BinaryMetrics();
  readonly rating = new RatingMetrics();

  summary(): MetricSummary {
    return { chosen: this.chosen.summary(), binary: this.binary.summary(), rating: this.rating.summary() };
  }
}

/**
 * Area under the ROC curve as the Mann–Whitney statistic: the probability that a random positive
 * scores above a random negative, ties counting half (average ranks).
 */
export function auc(scores: readonly number[], labels: readonly number[]): number | null {
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]]) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (!positives || !negatives) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Rank (1 = best) of candidate `index` when candidates are ordered by descending score with ties
 * in candidate order — the order the recommender's score records use. A NaN score ranks below
 * every number (NaN compares false with everything, so a diverged model would otherwise rank its
 * every choice first and read as perfect).
 */
export function rankOf(scores: ArrayLike<number>, index: number): number {
  const own = scores[index];
  let rank = 1;
  if (Number.isNaN(own)) {
    for (let i = 0; i < scores.length; i++) if (!Number.isNaN(scores[i]) || i < index) rank++;
    return rank;
  }
  for (let i = 0; i < scores.length; i++) if (scores[i] > own || (scores[i] === own && i < index)) rank++;
  return rank;
}
