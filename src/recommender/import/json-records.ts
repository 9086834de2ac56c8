import { createReadStream, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { InputLineError, errorMessage } from '../../errors.js';

/** One element of a JSON input: its parsed value, or why its line could not be parsed. */
export type JsonRecord = { line: number; value: unknown; error?: undefined } | { line: number; value?: undefined; error: InputLineError };

/**
 * The elements of a JSON array file or the lines of a JSONL file (blank lines skipped), each
 * with the line it starts on. A line that is not JSON comes back as an error naming the file and
 * line, and reading goes on: one bad line never loses the others. The format is told by the
 * first non-blank character ('[' = one array).
 */
export async function* readJsonRecords(file: string): AsyncGenerator<JsonRecord> {
  const name = basename(file);
  if ((await firstNonBlank(file)) === '[') {
    yield* arrayElements(readFileSync(file, 'utf8'), name);
    return;
  }
  let line = 0;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    try {
      yield { line, value: JSON.parse(text) };
    } catch (cause) {
      yield { line, error: new InputLineError(name, line, `not JSON: ${errorMessage(cause)}`, { cause }) };
    }
  }
}

async function firstNonBlank(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    for (let position = 0; ;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return undefined;
      const text = buffer.toString('utf8', 0, bytesRead).trimStart();
      if (text) return text[0];
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Splits a top-level JSON array into its elements by scanning brackets and strings, so that each
 * element is parsed (and fails) on its own and knows its line.
 */
function* arrayElements(text: string, name: string): Generator<JsonRecord> {
  let i = text.indexOf('[') + 1;
  let line = 1 + countNewlines(text, 0, i);
  const n = text.length;
  for (;;) {
    // Between elements: whitespace and one comma.
    while (i < n && (isBlank(text.charCodeAt(i)) || text[i] === ',')) {
      if (text[i] === '\n') line++;
      i++;
    }
    if (i >= n) {
      yield { line, error: new InputLineError(name, line, 'the JSON array is not closed with ]') };
      return;
    }
    if (text[i] === ']') return;
    const start = i;
    const startLine = line;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const c = text[i];
      if (c === '\n') line++;
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      } else if (c === ',' && depth === 0) break;
    }
    const slice = text.slice(start, i);
    try {
      yield { line: startLine, value: JSON.parse(slice) };
    } catch (cause) {
      yield { line: startLine, error: new InputLineError(name, startLine, `not JSON: ${errorMessage(cause)}`, { cause }) };
    }
  }
}

function isBlank(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) count++;
  return count;
}
