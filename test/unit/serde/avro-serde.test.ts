import { describe, expect, it } from 'vitest';
import { BadRecordError, ConfigError, type ErrorCode } from '../../../src/errors.js';
import { SINGLE_OBJECT_HEADER_LENGTH, SchemaRegistry, avroSerde } from '../../../src/serde/index.js';
import type { TrajectoryEvent, TrajectoryEventV1 } from '../../../src/recommender/records.js';
import { SCORE_RECORD_V1_FINGERPRINT, scoreRecordSerde } from '../../../src/recommender/score-record-body.js';
import type { DeadLetterRecord } from '../../../src/topology/runtime/dead-letter.js';
import { deadLetter, feedbackEvent, requestEvent, requestEventV1, scoreRecord } from './fixtures.js';

const registry = SchemaRegistry.fromDirectory();
const events = avroSerde<TrajectoryEvent>('trajectory-event', { registry });
const eventsV1 = avroSerde<TrajectoryEventV1>('trajectory-event', { registry, version: 1 });
const scores = scoreRecordSerde({ registry });
const deadLetters = avroSerde<DeadLetterRecord>('dead-letter', { registry });

function failure(action: () => unknown): BadRecordError {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(BadRecordError);
    return err as BadRecordError;
  }
  throw new Error('expected a BadRecordError, nothing was thrown');
}

function expectCode(action: () => unknown, code: ErrorCode): BadRecordError {
  const err = failure(action);
  expect(err.code).toBe(code);
  return err;
}

describe('avroSerde round trips', () => {
  it.each([
    ['REQUEST', requestEvent()],
    ['FEEDBACK', feedbackEvent()],
    [
      'TOOL_RESULT with nulls and no attributes',
      requestEvent({ kind: 'TOOL_RESULT', candidates: [], tool: null, text: null, attributes: {} }),
    ],
    ['unicode text', requestEvent({ text: 'déploie 🚀 → 本番', attributes: { ключ: 'значение' } })],
  ])('trajectory-event v2: %s', (_label, event) => {
    expect(events.deserialize(events.serialize(event))).toEqual(event);
  });

  it('trajectory-event v1', () => {
    const event = requestEventV1({ feedback: { signal: 'CHOSEN', value: 1, actionId: 'act-ask' }, kind: 'FEEDBACK' });
    expect(eventsV1.deserialize(eventsV1.serialize(event))).toEqual(event);
  });

  it('score-record, floats at single precision', () => {
    const record = scoreRecord();
    expect(scores.deserialize(scores.serialize(record))).toEqual(record);
    const rounded = scores.deserialize(scores.serialize(scoreRecord({ userEmbedding: [0.1, 1 / 3] })));
    expect(rounded.userEmbedding).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
  });

  it('dead-letter with and without key/value bytes', () => {
    const withBytes = deadLetter();
    const decoded = deadLetters.deserialize(deadLetters.serialize(withBytes));
    expect(decoded).toEqual(withBytes);
    expect(Buffer.isBuffer(decoded.value)).toBe(true);
    const tombstone = deadLetter({ key: null, value: null });
    expect(deadLetters.deserialize(deadLetters.serialize(tombstone))).toEqual(tombstone);
  });

  it('writes the single-object header: C3 01 + little-endian CRC-64-AVRO of the writer schema', () => {
    const bytes = events.serialize(requestEvent());
    const expected = Buffer.alloc(8);
    expected.writeBigUInt64LE(registry.latest('trajectory-event')!.fingerprint);
    expect([...bytes.subarray(0, 2)]).toEqual([0xc3, 0x01]);
    expect(bytes.subarray(2, SINGLE_OBJECT_HEADER_LENGTH)).toEqual(expected);
    const v1Bytes = eventsV1.serialize(requestEventV1());
    expect(v1Bytes.readBigUInt64LE(2)).toBe(registry.version('trajectory-event', 1)!.fingerprint);
  });

  it('serializes records larger than its initial scratch buffer, and smaller ones after them', () => {
    const big = requestEvent({
      code: 'x'.repeat(100_000),
      candidates: Array.from({ length: 500 }, (_, i) => ({ actionId: `a${i}`, tool: null, text: 't'.repeat(50) })),
    });
    expect(events.deserialize(events.serialize(big))).toEqual(big);
    const small = requestEvent();
    expect(events.deserialize(events.serialize(small))).toEqual(small);
  });

  it('returns buffers that later writes do not overwrite', () => {
    const first = events.serialize(requestEvent({ eventId: 'first' }));
    events.serialize(requestEvent({ eventId: 'second' }));
    expect(events.deserialize(first).eventId).toBe('first');
  });

  it('writes schema defaults for fields a producer leaves out', () => {
    const { attributes: _attributes, ...withoutAttributes } = requestEvent();
    const decoded = events.deserialize(events.serialize(withoutAttributes as TrajectoryEvent));
    expect(decoded.attributes).toEqual({});
  });
});

describe('avroSerde schema evolution', () => {
  it('reads a v1-written event with the v2 serde, filling the new field with its default', () => {
    const written = requestEventV1();
    const read = events.deserialize(eventsV1.serialize(written));
    expect(read).toEqual({ ...written, attributes: {} });
  });

  it('gives every decoded record its own copy of a default', () => {
    const bytes = eventsV1.serialize(requestEventV1());
    const a = events.deserialize(bytes);
    a.attributes.mutated = 'yes';
    expect(events.deserialize(bytes).attributes).toEqual({});
  });

  it('reads a v2-written event with a serde pinned to v1, dropping the field v1 does not know', () => {
    const written = requestEvent();
    const read = eventsV1.deserialize(events.serialize(written));
    const { attributes: _attributes, ...v1Shape } = written;
    expect(read).toEqual(v1Shape);
    expect(read).not.toHaveProperty('attributes');
  });

  it('names itself after the family and the version it writes', () => {
    expect(events.name).toBe('avro:trajectory-event.v2');
    expect(eventsV1.name).toBe('avro:trajectory-event.v1');
    expect(events.schema.version).toBe(2);
  });
});

describe('avroSerde decode failures are DECODE_FAILED', () => {
  const valid = events.serialize(requestEvent());

  it('rejects an unknown writer fingerprint', () => {
    const bytes = Buffer.from(valid);
    bytes[5] ^= 0xff;
    const err = expectCode(() => events.deserialize(bytes), 'DECODE_FAILED');
    expect(err.message).toMatch(/unknown writer schema fingerprint 0x[0-9a-f]{16}/);
  });

  it('rejects a record of another family, naming it', () => {
    const err = expectCode(() => events.deserialize(scores.serialize(scoreRecord())), 'DECODE_FAILED');
    expect(err.message).toContain('score-record');
  });

  it('rejects bad magic, e.g. JSON on an Avro topic', () => {
    const err = expectCode(() => events.deserialize(Buffer.from(JSON.stringify(requestEvent()))), 'DECODE_FAILED');
    expect(err.message).toContain('bad magic');
  });

  it('rejects inputs shorter than the header, including empty', () => {
    for (let length = 0; length < SINGLE_OBJECT_HEADER_LENGTH; length++) {
      expectCode(() => events.deserialize(valid.subarray(0, length)), 'DECODE_FAILED');
    }
  });

  it('rejects every truncation of a valid record', () => {
    for (let length = SINGLE_OBJECT_HEADER_LENGTH; length < valid.length; length++) {
      expectCode(() => events.deserialize(valid.subarray(0, length)), 'DECODE_FAILED');
    }
  });

  it('rejects trailing bytes', () => {
    expectCode(() => events.deserialize(Buffer.concat([valid, Buffer.from([0])])), 'DECODE_FAILED');
  });

  it('rejects a tiny record that claims a huge array instead of allocating it', () => {
    // A score-record whose candidates block claims 2^31 items in a 22-byte record.
    const header = scores.serialize(scoreRecord()).subarray(0, SINGLE_OBJECT_HEADER_LENGTH);
    const body = Buffer.from([
      0x02,
      0x72, // requestId "r"
      0x02,
      0x75, // userId "u"
      0x02, // eventTime 1
      0x02,
      0x6d, // modelVersion "m"
      0x02, // scoredAt 1
      0x80,
      0x80,
      0x80,
      0x80,
      0x10, // block count 2^31 (zig-zag)
    ]);
    const err = expectCode(() => scores.deserialize(Buffer.concat([header, body])), 'DECODE_FAILED');
    expect(err.message).toContain('cannot fit');
  });

  it('never fails with anything but DECODE_FAILED on corrupted bytes', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let decoded = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const bytes = Buffer.from(valid);
      const flips = 1 + Math.floor(random() * 3);
      for (let i = 0; i < flips; i++) {
        const at = SINGLE_OBJECT_HEADER_LENGTH + Math.floor(random() * (bytes.length - SINGLE_OBJECT_HEADER_LENGTH));
        bytes[at] = Math.floor(random() * 256);
      }
      try {
        events.deserialize(bytes);
        decoded++;
      } catch (err) {
        expect(err).toBeInstanceOf(BadRecordError);
        expect((err as BadRecordError).code).toBe('DECODE_FAILED');
      }
    }
    // Flipping a byte inside a string still decodes; the point is that nothing else escapes.
    expect(decoded).toBeGreaterThan(0);
    expect(decoded).toBeLessThan(2000);
  });
});

describe('avroSerde serialize validation names the field', () => {
  it.each([
    [
      'candidates[2].actionId',
      () =>
        requestEvent({
          candidates: [...requestEvent().candidates.slice(0, 2), { actionId: 42 as unknown as string, tool: null, text: null }],
        }),
    ],
    ['feedback.signal', () => feedbackEvent({ feedback: { signal: 'MAYBE' as 'LIKE', value: 1, actionId: null } })],
    ['feedback.value', () => feedbackEvent({ feedback: { signal: 'LIKE', value: '1' as unknown as number, actionId: null } })],
    ['userId', () => requestEvent({ userId: undefined as unknown as string })],
    ['eventTime', () => requestEvent({ eventTime: 1.5 })],
    ['kind', () => requestEvent({ kind: 'PING' as 'REQUEST' })],
    ['attributes["language"]', () => requestEvent({ attributes: { language: null as unknown as string } })],
    ['text', () => requestEvent({ text: 7 as unknown as string })],
  ])('%s', (field, make) => {
    const err = expectCode(() => events.serialize(make()), 'VALIDATION_FAILED');
    expect(err.field).toBe(field);
    expect(err.message).toContain(`field '${field}'`);
  });

  it('names the first invalid field and mentions the others', () => {
    const err = expectCode(
      () => events.serialize(requestEvent({ userId: 1 as unknown as string, sessionId: 2 as unknown as string })),
      'VALIDATION_FAILED',
    );
    expect(err.field).toBe('userId');
    expect(err.message).toContain('sessionId');
  });

  it('rejects a non-record value without a field', () => {
    const err = expectCode(() => events.serialize(null as unknown as TrajectoryEvent), 'VALIDATION_FAILED');
    expect(err.field).toBeUndefined();
  });

  it('rejects score-record and dead-letter values that do not match', () => {
    const score = expectCode(() => scores.serialize(scoreRecord({ userEmbedding: [0.1, 'x' as unknown as number] })), 'VALIDATION_FAILED');
    expect(score.field).toBe('userEmbedding[1]');
    const rank = expectCode(
      () => scores.serialize(scoreRecord({ candidates: [{ actionId: 'a', score: 1, rank: 1.5 }] })),
      'VALIDATION_FAILED',
    );
    expect(rank.field).toBe('candidates[0].rank');
    const letter = expectCode(() => deadLetters.serialize(deadLetter({ key: 'user-42' as unknown as Buffer })), 'VALIDATION_FAILED');
    expect(letter.field).toBe('key');
  });
});

describe('avroSerde configuration', () => {
  it('rejects an unknown family, listing the known ones', () => {
    const make = () => avroSerde('trajectory', { registry });
    expect(make).toThrow(ConfigError);
    expect(make).toThrow('/serde/family');
    expect(make).toThrow('trajectory-event');
  });

  it.each([3, 0, 1.5])('rejects version %s', (version) => {
    expect(() => avroSerde('trajectory-event', { registry, version })).toThrow(ConfigError);
    expect(() => avroSerde('trajectory-event', { registry, version })).toThrow('/serde/version');
  });

  it('loads the repository schemas when no registry is given', () => {
    const serde = avroSerde<TrajectoryEvent>('trajectory-event');
    expect(serde.deserialize(events.serialize(requestEvent()))).toEqual(requestEvent());
  });
});

describe('avroSerde skipOnRead', () => {
  const skipping = avroSerde<TrajectoryEvent>('trajectory-event', { registry, skipOnRead: ['candidates.tool', 'candidates.text', 'code'] });
  const without = (event: TrajectoryEventV1) => {
    const { code: _code, ...rest } = event;
    return { ...rest, candidates: event.candidates.map((c) => ({ actionId: c.actionId })) };
  };

  it('decodes every other field as the full serde does, from v2 and v1 writers, leaving the skipped ones out', () => {
    const v2 = requestEvent({ text: 'déploie 🚀', feedback: { signal: 'CHOSEN', value: 1, actionId: 'act-ask' } });
    expect(skipping.deserialize(events.serialize(v2))).toEqual(without(v2));
    const v1 = requestEventV1();
    expect(skipping.deserialize(eventsV1.serialize(v1))).toEqual({ ...without(v1), attributes: {} });
    expect(skipping.deserialize(events.serialize(feedbackEvent()))).toEqual(without(feedbackEvent()));
  });

  it('writes like the full serde, skipped fields with defaults included or left out', () => {
    const event = requestEvent();
    expect(skipping.serialize(event).equals(events.serialize(event))).toBe(true);
    const leftOut = requestEvent({ candidates: [{ actionId: 'a' }, { actionId: 'b', tool: 'git' }] });
    expect(events.deserialize(skipping.serialize(leftOut)).candidates).toEqual([
      { actionId: 'a', tool: null, text: null },
      { actionId: 'b', tool: 'git', text: null },
    ]);
  });

  it('still checks the skipped bytes: a truncated or corrupted record is DECODE_FAILED', () => {
    const bytes = events.serialize(requestEvent());
    for (let end = SINGLE_OBJECT_HEADER_LENGTH; end < bytes.length; end++)
      expectCode(() => skipping.deserialize(bytes.subarray(0, end)), 'DECODE_FAILED');
  });

  it.each([
    ['candidates.colour', "has no field 'candidates.colour'"],
    ['nothing', "has no field 'nothing'"],
    ['eventId.length', "'eventId' in trajectory-event.v2.avsc holds no record"],
  ])('rejects the path %s, naming it', (path, message) => {
    const make = () => avroSerde('trajectory-event', { registry, skipOnRead: ['code', path] });
    expect(make).toThrow(ConfigError);
    expect(make).toThrow('/serde/skipOnRead/1');
    expect(make).toThrow(message);
  });
});

describe('avroSerde hand-written score-record body', () => {
  it('is pinned to score-record.v1.avsc: another schema is written by avsc', () => {
    expect(SCORE_RECORD_V1_FINGERPRINT).toBe(registry.version('score-record', 1)!.fingerprint);
  });

  it('writes exactly the bytes avsc writes, for records of every shape', () => {
    let seed = 5;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pieces = ['act', '-', 'ü', '×', '日本', '😀', 'x'.repeat(70), '7'];
    const text = () => Array.from({ length: Math.floor(random() * 5) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
    for (let n = 0; n < 300; n++) {
      const record = scoreRecord({
        requestId: `req-${n}${text()}`,
        userId: text(),
        eventTime: Math.floor(random() * 2 ** 45) - (n % 7 === 0 ? 2 ** 44 : 0),
        modelVersion: text(),
        scoredAt: n,
        candidates: Array.from({ length: Math.floor(random() * 40) }, (_, i) => ({
          actionId: text(),
          score: (random() - 0.5) * 1e6,
          rank: i + 1 - (n % 3) * 2 ** 20,
        })),
        userEmbedding: Array.from(Float32Array.from({ length: Math.floor(random() * 70) }, () => random() - 0.5)),
      });
      const bytes = scores.serialize(record);
      expect(bytes.subarray(SINGLE_OBJECT_HEADER_LENGTH).equals(scores.schema.type.toBuffer(record)), `record ${n}`).toBe(true);
      expect(
        bytes.subarray(0, SINGLE_OBJECT_HEADER_LENGTH).equals(scores.serialize(scoreRecord()).subarray(0, SINGLE_OBJECT_HEADER_LENGTH)),
      ).toBe(true);
    }
  });

  it('leaves nothing behind from a value it refused: the next one is written whole', () => {
    const good = scoreRecord();
    const expected = scores.schema.type.toBuffer(good);
    expectCode(() => scores.serialize(scoreRecord({ candidates: [{ actionId: 'a', score: 1, rank: 2 ** 31 }] })), 'VALIDATION_FAILED');
    expectCode(() => scores.serialize(scoreRecord({ scoredAt: 1.5 })), 'VALIDATION_FAILED');
    expect(scores.serialize(good).subarray(SINGLE_OBJECT_HEADER_LENGTH).equals(expected)).toBe(true);
  });
});
