import { ConfigError } from '../../errors.js';

/** A compiled dotted path into parsed JSON: `metadata.user_id`, `turns[0].at`. */
export interface JsonPath {
  readonly source: string;
  /** The value at the path, or undefined when any step is missing. */
  get(value: unknown): unknown;
}

const SEGMENT = /^([^.[\]]+)((?:\[\d+\])*)$/;

/**
 * Compiles a path once, at configuration time, so a malformed one fails before any line is read,
 * naming the flag it came from. Keys are separated by dots; array elements are `[n]`.
 *
 * @example
 * compileJsonPath('metadata.user_id', '--user-path').get({ metadata: { user_id: 'u1' } }) // 'u1'
 */
export function compileJsonPath(source: string, flag: string): JsonPath {
  if (source.trim() === '') throw new ConfigError(flag, 'must be a non-empty JSON path such as metadata.user_id');
  const steps: (string | number)[] = [];
  for (const segment of source.split('.')) {
    const match = SEGMENT.exec(segment);
    if (!match) throw new ConfigError(flag, `'${source}' is not a JSON path: segment '${segment}' must be a key with optional [n] indexes`);
    steps.push(match[1]);
    for (const index of match[2].matchAll(/\[(\d+)\]/g)) steps.push(Number(index[1]));
  }
  return {
    source,
    get(value: unknown): unknown {
      let at: unknown = value;
      for (const step of steps) {
        if (at === null || typeof at !== 'object') return undefined;
        at = typeof step === 'number' ? (Array.isArray(at) ? at[step] : undefined) : (at as Record<string, unknown>)[step];
      }
      return at;
    },
  };
}

/** A scalar at a path as a string id (numbers are common user ids), undefined when absent or not scalar. */
export function scalarString(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** `text` parsed as JSON, else `fail` naming the field and what it must be, with the start of what it got. */
export function parseJsonField(text: string, field: string, what: string, fail: (message: string, field?: string) => never): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fail(`must be ${what}, got ${JSON.stringify(text.slice(0, 80))}`, field);
  }
}
