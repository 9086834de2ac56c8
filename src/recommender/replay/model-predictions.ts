import type { ScoreRecord, TrajectoryEvent } from '../records.js';
import { ALL_NEEDS, type CandidatePredictions, type PredictionNeeds } from './baselines/baseline.js';
import { ratingReadout, readRating } from '../model/rating-readout.js';
import { acceptanceProbability, acceptanceReadout } from '../model/acceptance-calibration.js';

/** How the model's regression score maps back to stars: it learns towards (stars − center) · scale. */
export interface RatingCalibration {
  center: number;
  scale: number;
}

/**
 * The model's predictions for a request, from the score record it emitted when it scored the
 * request: scores in the request's candidate order (a candidate the record lacks ranks last),
 * the acceptance probability as the logistic of the score through the version's acceptance
 * readout (Platt scaling learned from binary feedback; the plain logistic before any), and the rating as the model itself reads it back (its version carries its
 * running-mean centre and the range it clips to), else as score / scale + center. Only the
 * families `needs` names are computed (scores always: feedback naming no action takes the top one).
 */
export function modelPredictions(
  scored: ScoreRecord['candidates'],
  request: TrajectoryEvent,
  rating: RatingCalibration,
  modelVersion = '',
  needs: PredictionNeeds = ALL_NEEDS,
): CandidatePredictions {
  const byAction = new Map<string, number>();
  for (const c of scored) byAction.set(c.actionId, c.score);
  const scores = request.candidates.map((c) => byAction.get(c.actionId) ?? -Infinity);
  const predictions: CandidatePredictions = { scores };
  if (needs.binary) {
    const readout = acceptanceReadout(modelVersion);
    predictions.probabilities = scores.map((s) => acceptanceProbability(readout, s));
  }
  if (needs.rating) {
    const readout = ratingReadout(modelVersion);
    predictions.ratings = scores.map((s) => (readout ? readRating(readout, s, rating.scale) : s / rating.scale + rating.center));
  }
  return predictions;
}
