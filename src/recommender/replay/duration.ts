import { ConfigError } from '../../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `15m`, `1h`, `7d`, or plain milliseconds; errors name the flag. */
export function parseDuration(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/.exec(text);
  const ms = match ? Number(match[1]) * UNITS[match[2] ?? 'ms'] : NaN;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new ConfigError(flag, `must be a positive duration such as 30m, 1h or 1d, got '${text}'`);
  return ms;
}
