import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { InputLineError } from '../../../../src/errors.js';
import { importRatings } from '../../../../src/recommender/import/import-file.js';
import { splitDelimited } from '../../../../src/recommender/import/delimited-line.js';
import { memorySink } from './memory-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'agentrec-ratings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const base = { tool: null, domain: null, repo: null, errorType: null, agent: null, text: null, code: null, source: 'REAL', attributes: {} };

describe('ratings files → REQUEST + RATING pairs', () => {
  it('maps a CSV with a header by position', async () => {
    const sink = memorySink();
    const result = await importRatings(write('r.csv', 'user,item,stars,ts\nu1,m9,4.5,1767571827\n'), {}, sink);
    expect(result).toEqual({ records: 1, events: 2, badLines: 0 });
    const common = { ...base, userId: 'u1', sessionId: 'ratings:u1', eventTime: 1767571827000, requestId: 'r.csv:2' };
    expect(sink.events).toEqual([
      { ...common, eventId: 'r.csv:2/request', kind: 'REQUEST', candidates: [{ actionId: 'm9', tool: null, text: null }], feedback: null },
      {
        ...common,
        eventId: 'r.csv:2/rating',
        kind: 'FEEDBACK',
        candidates: [],
        feedback: { signal: 'RATING', value: 4.5, actionId: 'm9' },
      },
    ]);
  });

  it('maps columns by name, TSV by extension, ISO times, and a file without times', async () => {
    const sink = memorySink();
    await importRatings(
      write('r.tsv', 'when\tstars\tmovie\twho\n2026-02-01T00:00:00Z\t3\t"The ""Best"""\tbob\n'),
      { userColumn: 'who', itemColumn: 'movie', ratingColumn: 'stars', timeColumn: 'when' },
      sink,
    );
    expect(sink.events[1]).toMatchObject({
      userId: 'bob',
      eventTime: Date.UTC(2026, 1, 1),
      feedback: { signal: 'RATING', value: 3, actionId: 'The "Best"' },
    });
    const plain = memorySink();
    await importRatings(write('plain.dat', 'a::x::5\nb::y::1\n'), { delimiter: '::', header: false }, plain);
    expect(plain.events.map((e) => [e.userId, e.eventTime, e.feedback?.value ?? null])).toEqual([
      ['a', Date.UTC(2026, 0, 1) + 1000, null],
      ['a', Date.UTC(2026, 0, 1) + 1000, 5],
      ['b', Date.UTC(2026, 0, 1) + 2000, null],
      ['b', Date.UTC(2026, 0, 1) + 2000, 1],
    ]);
  });

  it('reports bad rows by file and line and keeps the good ones', async () => {
    const errors: InputLineError[] = [];
    const sink = memorySink();
    const file = write(
      'bad.csv',
      'user,item,rating,timestamp\nu1,i1,5,100000000\nu2,i2,lots,100000001\nu3\nu4,i4,2,yesterday\nu5,i5,1,100000002\n',
    );
    const result = await importRatings(file, {}, sink, { onBadLine: (e) => errors.push(e) });
    expect(result).toEqual({ records: 5, events: 4, badLines: 3 });
    expect(errors.map((e) => e.message.replace(/^\[INPUT_INVALID\] /, ''))).toEqual([
      "bad.csv:3: rating 'lots' is not a number",
      'bad.csv:4: no item in column 2 (1 fields on the line)',
      "bad.csv:5: timestamp 'yesterday' is neither epoch seconds/milliseconds nor an ISO-8601 time",
    ]);
    expect(sink.events.map((e) => e.userId)).toEqual(['u1', 'u1', 'u5', 'u5']);
  });

  it('refuses a column name the header lacks, naming the flag', async () => {
    await expect(importRatings(write('h.csv', 'a,b,c\n1,2,3\n'), { userColumn: 'user' }, memorySink())).rejects.toThrow(
      "--user-col: no column 'user' in the header",
    );
  });

  it('splits quoted CSV fields', () => {
    expect(splitDelimited('a,"b,c","d""e",', ',')).toEqual(['a', 'b,c', 'd"e', '']);
  });
});
