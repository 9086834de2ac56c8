import { ConfigError } from './errors.js';

/**
 * Config validation, one module for every layer. Each check names the JSON pointer of the offending
 * field, so a user sees `/model/learningRate: must be a finite number > 0`, not a stack trace.
 */

export function optionalNumber(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new ConfigError(path, `must be a number, got ${describeValue(value)}`);
  return value;
}

export function positive(value: number, path: string): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new ConfigError(path, `must be a finite number > 0, got ${value}`);
  return value;
}

export function nonNegative(value: number, path: string): number {
  if (!(value >= 0)) throw new ConfigError(path, `must be >= 0, got ${value}`);
  return value;
}

export function positiveInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(path, `must be an integer > 0, got ${describeValue(value)}`);
  }
  return value;
}

export function nonNegativeInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ConfigError(path, `must be an integer >= 0, got ${describeValue(value)}`);
  }
  return value;
}

export function objectOrEmpty(value: unknown, path: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(path, `must be an object, got ${describeValue(value)}`);
  return value as Record<string, unknown>;
}

export function rejectUnknownKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ConfigError(`${path}/${key}`, `unknown option (allowed: ${allowed.join(', ')})`);
  }
}

/** A finite number in [min, max]; `fallback` when undefined. */
export function numberIn(value: unknown, path: string, range: { min?: number; max?: number; fallback?: number }): number {
  const { min = -Infinity, max = Infinity } = range;
  const v = value === undefined ? range.fallback : value;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new ConfigError(path, `must be a number in [${min}, ${max}], got ${describeValue(v)}`);
  }
  return v;
}

/** An integer in [min, max]; `fallback` when undefined. */
export function integerIn(value: unknown, path: string, range: { min?: number; max?: number; fallback?: number }): number {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  const v = value === undefined ? range.fallback : value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(path, `must be an integer in [${min}, ${max}], got ${describeValue(v)}`);
  }
  return v;
}

/** One of `choices`; `fallback` when undefined. */
export function oneOf<T extends string>(value: unknown, path: string, choices: readonly T[], fallback?: T): T {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'string' || !choices.includes(v as T)) {
    throw new ConfigError(path, `must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describeValue(v)}`);
  }
  return v as T;
}

/** A non-empty string. */
export function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new ConfigError(path, `must be a non-empty string, got ${describeValue(value)}`);
  return value;
}

/** A value as a message shows it: JSON where it has one, else its type. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
