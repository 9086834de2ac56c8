/** How a model version says scores read as ratings: center + score / scale, clipped to [min, max]. */
export interface RatingReadout {
  center: number;
  min: number;
  max: number;
}

/**
 * The rating readout a model version carries (`…/r<center>:<min>:<max>`, written once the model
 * has learned from ratings), or undefined when it carries none (the model has seen no rating yet).
 */
export function ratingReadout(modelVersion: string): RatingReadout | undefined {
  const at = modelVersion.lastIndexOf('/r');
  if (at < 0) return undefined;
  const [center, min, max] = modelVersion
    .slice(at + 2)
    .split(':')
    .map(Number);
  if (!Number.isFinite(center) || !(min <= max)) return undefined;
  return { center, min, max };
}

/** A score read as a rating through a readout. */
export function readRating(readout: RatingReadout, score: number, scale = 1): number {
  const rating = readout.center + score / scale;
  return rating < readout.min ? readout.min : rating > readout.max ? readout.max : rating;
}

/**
 * A score of a score record read as a rating, as its model version says; undefined when the
 * version carries no rating readout.
 */
export function ratingFromScore(modelVersion: string, score: number, scale = 1): number | undefined {
  const readout = ratingReadout(modelVersion);
  return readout && readRating(readout, score, scale);
}
