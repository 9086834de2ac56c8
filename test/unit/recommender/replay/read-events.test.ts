import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { InputLineError } from '../../../../src/errors.js';
import { frame, unframe } from '../../../../src/recommender/import/avro-event-stream.js';
import { readJsonRecords } from '../../../../src/recommender/import/json-records.js';
import type { TrajectoryEvent } from '../../../../src/recommender/records.js';
import { readReplayEvents } from '../../../../src/recommender/replay/read-events.js';
import { avroSerde } from '../../../../src/serde/avro-serde.js';

const dir = mkdtempSync(join(tmpdir(), 'agentrec-read-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = { eventId: 'r1', kind: 'REQUEST', userId: 'u', sessionId: 's', eventTime: 1000, candidates: [{ actionId: 'a' }] };

describe('reading replay files', () => {
  it('fills JSONL defaults, and reports bad lines by file:line while keeping the rest', () => {
    const file = join(dir, 'events.jsonl');
    const lines = [
      JSON.stringify(request),
      JSON.stringify({ ...request, eventId: 'r2', candidates: [] }),
      '{"eventId": ',
      JSON.stringify({ ...request, eventId: 'r3', eventTime: 'noon' }),
      JSON.stringify({
        eventId: 'f1',
        kind: 'FEEDBACK',
        userId: 'u',
        sessionId: 's',
        eventTime: 2000,
        requestId: 'r1',
        feedback: { signal: 'CHOSEN', value: 1, actionId: 'a' },
      }),
    ];
    writeFileSync(file, lines.join('\n') + '\n');
    const errors: InputLineError[] = [];
    const events = readReplayEvents(file, 'jsonl', (e) => errors.push(e));
    expect(events.map((e) => [e.event.eventId, e.line])).toEqual([
      ['r1', 1],
      ['f1', 5],
    ]);
    expect(events[0].event).toMatchObject({
      requestId: null,
      text: null,
      attributes: {},
      source: 'REAL',
      candidates: [{ actionId: 'a', tool: null, text: null }],
    });
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringContaining('events.jsonl:2: [VALIDATION_FAILED]'),
      expect.stringContaining('events.jsonl:3: '),
      expect.stringContaining('events.jsonl:4: '),
    ]);
  });

  it('reads Avro event streams (length-prefixed single-object records) and names a truncated record', () => {
    const serde = avroSerde<TrajectoryEvent>('trajectory-event');
    const event = fullEvent(request) as TrajectoryEvent;
    const body = serde.serialize(event);
    const bytes = Buffer.concat([frame(body), frame(body), frame(body).subarray(0, 10)]);
    const records: number[] = [];
    expect(() => {
      for (const { index } of unframe(bytes, 'e.avro')) records.push(index);
    }).toThrow(/e\.avro:3: record of \d+ bytes runs past the end of the file/);
    expect(records).toEqual([1, 2]);
    expect(() => [...unframe(Buffer.from('Obj\x01rest', 'latin1'), 'c.avro')]).toThrow(/object container file/);
    const file = join(dir, 'events.avro');
    writeFileSync(file, Buffer.concat([frame(body), frame(Buffer.from('junk'))]));
    const errors: InputLineError[] = [];
    const read = readReplayEvents(file, 'avro', (e) => errors.push(e));
    expect(read.map((e) => e.event.eventId)).toEqual(['r1']);
    expect(read[0].bytes.equals(body)).toBe(true);
    expect(errors[0].message).toMatch(/events\.avro:2: \[DECODE_FAILED\]/);
  });

  it('splits JSON arrays whose strings hold brackets, commas and escaped quotes', async () => {
    const file = join(dir, 'tricky.json');
    writeFileSync(file, '[{"a": "x]}, {\\"y"}, 2\n, [3, {"b": "]"}]\n]');
    const out = [];
    for await (const r of readJsonRecords(file)) out.push([r.line, r.value]);
    expect(out).toEqual([
      [1, { a: 'x]}, {"y' }],
      [1, 2],
      [2, [3, { b: ']' }]],
    ]);
  });
});

/** A REQUEST with every field present, as the Avro writer needs it. */
function fullEvent(partial: Record<string, unknown>): unknown {
  return {
    requestId: null,
    tool: null,
    domain: null,
    repo: null,
    errorType: null,
    agent: null,
    text: null,
    code: null,
    feedback: null,
    source: 'REAL',
    attributes: {},
    ...partial,
    candidates: [{ actionId: 'a', tool: null, text: null }],
  };
}
