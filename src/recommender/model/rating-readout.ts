/** How a model version says scores read as ratings: center + slope · score / scale, clipped to [min, max]. */
export interface RatingReadout {
  center: number;
  min: number;
  max: number;
  /** 1 where the version carries none (versions written before the rating calibration). */
  slope: number;
}

/**
 * The rating readout a model version carries (`…/r<center>:<min>:<max>[:<slope>]`, written once
 * the model has learned from ratings), or undefined when it carries none (the model has seen no rating yet).
 */
export function ratingReadout(modelVersion: string): RatingReadout | undefined {
  const at = modelVersion.lastIndexOf('/r');
  if (at < 0) return undefined;
  const [center, min, max, slope = 1] = modelVersion
    .slice(at + 2)
    .split(':')
    .map(Number);
  if (!Number.isFinite(center) || !(min <= max) || !(slope >= 0)) return undefined;
  return { center, min, max, slope };
}

/** A score read as a rating through a readout. */
export function readRating(readout: RatingReadout, score: number, scale = 1): number {
  return clipRating(readout.center + (readout.slope * score) / scale, readout);
}

/** A predicted rating clipped to the range of ratings (NaN stays NaN). */
export function clipRating(rating: number, range: { min: number; max: number }): number {
  return rating < range.min ? range.min : rating > range.max ? range.max : rating;
}

/**
 * A score of a score record read as a rating, as its model version says; undefined when the
 * version carries no rating readout.
 */
export function ratingFromScore(modelVersion: string, score: number, scale = 1): number | undefined {
  const readout = ratingReadout(modelVersion);
  return readout && readRating(readout, score, scale);
}
