/**
 * Event times in input files: epoch milliseconds, epoch seconds (values below 1e11, i.e. before
 * 1973 read as milliseconds, are taken as seconds — transcripts and ratings files use both) or
 * ISO-8601 strings. Undefined when the value is absent or not a time.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    return Math.round(value < 1e11 ? value * 1000 : value);
  }
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return parseTimestamp(Number(text));
  const ms = Date.parse(text);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** Where synthetic event times start when an input has none: a fixed instant, so imports are deterministic. */
export const SYNTHETIC_START_MS = Date.UTC(2026, 0, 1);
