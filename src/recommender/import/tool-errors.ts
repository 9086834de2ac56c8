import { ConfigError } from '../../errors.js';
import { compileJsonPath, type JsonPath } from './json-path.js';

export interface ToolErrorOptions {
  /**
   * JSON fields of a tool message's content (parsed when it is JSON) that mark an error when
   * present and not null/false/empty. Default: ['error'].
   */
  jsonPaths?: string[];
  /**
   * Regular expressions over the content text that mark an error; a first capture group, when
   * it matched, names the error type. Default: content starting with "Error:" (any case).
   */
  patterns?: string[];
}

/** Tells whether a tool result is an error and, if so, its type (a short exact-key id). */
export type ToolErrorDetector = (content: string) => string | null;

const DEFAULT_PATTERN = '^\\s*error:\\s*(?:([A-Za-z_][\\w.]*(?:Error|Exception|Timeout))\\b)?';
/** An error type named inside an error message: "TimeoutError: …", "PermissionDenied". */
const TYPE_IN_TEXT = /^\s*([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Denied|NotFound))\b/;

/**
 * Builds the detector once from validated options (errors name the flag). Error types are kept
 * short and exact (they become sparse ids): the `type`/`code`/`name` of a JSON error object, the
 * class name at the start of an error string, else the generic 'Error'.
 *
 * @example
 * toolErrorDetector({})('{"error": {"type": "RateLimit"}}') // 'RateLimit'
 */
export function toolErrorDetector(options: ToolErrorOptions = {}): ToolErrorDetector {
  const paths: JsonPath[] = (options.jsonPaths ?? ['error']).map((p) => compileJsonPath(p, '--error-json-path'));
  const patterns = (options.patterns ?? [DEFAULT_PATTERN]).map((source) => {
    try {
      return new RegExp(source, 'i');
    } catch (cause) {
      throw new ConfigError('--error-pattern', `'${source}' is not a regular expression: ${(cause as Error).message}`);
    }
  });
  return (content) => {
    if (paths.length && looksLikeJson(content)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(content);
      } catch {
        parsed = undefined;
      }
      for (const path of paths) {
        const type = errorTypeOf(path.get(parsed));
        if (type) return type;
      }
    }
    for (const pattern of patterns) {
      const match = pattern.exec(content);
      if (match) return normalise(match[1]) ?? normalise(TYPE_IN_TEXT.exec(content.slice(match[0].length))?.[1]) ?? 'Error';
    }
    return null;
  };
}

function looksLikeJson(content: string): boolean {
  const first = content.trimStart()[0];
  return first === '{' || first === '[';
}

function errorTypeOf(value: unknown): string | undefined {
  if (value === undefined || value === null || value === false || value === '' || value === 0) return undefined;
  if (typeof value === 'string') return normalise(TYPE_IN_TEXT.exec(value)?.[1]) ?? 'Error';
  if (typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key of ['type', 'code', 'name']) {
      const named = record[key];
      if (typeof named === 'string' || typeof named === 'number') return normalise(String(named)) ?? 'Error';
    }
  }
  return 'Error';
}

/** Exact-key ids stay short and free of spaces. */
function normalise(type: string | undefined): string | undefined {
  if (!type) return undefined;
  const cleaned = type
    .trim()
    .replace(/[^\w.-]+/g, '_')
    .slice(0, 64);
  return cleaned || undefined;
}
