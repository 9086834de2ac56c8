/**
 * A score of a score record read as a rating: the model version says how (`…/r<center>:<min>:<max>`,
 * written once the model has learned from ratings): center + score / scale, clipped to [min, max].
 * Undefined when the version carries no rating readout (the model has seen no rating yet).
 */
export function ratingFromScore(modelVersion: string, score: number, scale = 1): number | undefined {
  const at = modelVersion.lastIndexOf('/r');
  if (at < 0) return undefined;
  const [center, min, max] = modelVersion
    .slice(at + 2)
    .split(':')
    .map(Number);
  if (!Number.isFinite(center) || !(min <= max)) return undefined;
  const rating = center + score / scale;
  return rating < min ? min : rating > max ? max : rating;
}
