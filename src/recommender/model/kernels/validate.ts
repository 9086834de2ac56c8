import { ConfigError } from '../../../errors.js';

/**
 * Checks shared by the kernel config resolvers. Each names the JSON pointer of the offending field
 * so a user sees `/update/learningRate: must be > 0`, not a stack trace from deep in a kernel.
 */

export function optionalNumber(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new ConfigError(path, `must be a number, got ${describe(value)}`);
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
    throw new ConfigError(path, `must be an integer > 0, got ${describe(value)}`);
  }
  return value;
}

export function nonNegativeInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ConfigError(path, `must be an integer >= 0, got ${describe(value)}`);
  }
  return value;
}

export function objectOrEmpty(value: unknown, path: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(path, `must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

export function rejectUnknownKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ConfigError(`${path}/${key}`, `unknown option (allowed: ${allowed.join(', ')})`);
  }
}

function describe(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
}
