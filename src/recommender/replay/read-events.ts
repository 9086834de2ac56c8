import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InputLineError, errorMessage } from '../../errors.js';
import { avroSerde } from '../../serde/avro-serde.js';
import { unframe } from '../import/avro-event-stream.js';
import type { EventFileFormat } from '../import/event-file-format.js';
import type { TrajectoryEvent } from '../records.js';
import { validateTrajectoryEvent } from '../validate-trajectory-event.js';

/** An event of a replay file, with the Avro bytes a topology's source reads. */
export interface ReplayEvent {
  event: TrajectoryEvent;
  bytes: Buffer;
  /** Line (JSONL) or record index (Avro stream) in the file, 1-based. */
  line: number;
}

/**
 * Reads a file of trajectory events (JSONL or Avro event stream) into memory, checking each
 * record as a topology's decode step would (schema, then validateTrajectoryEvent). A record that
 * fails is reported by file and line through `onBadLine` and left out; the rest are kept. JSONL
 * may leave out nullable fields (null), `candidates` ([]), `attributes` ({}) and `source` (REAL).
 */
export function readReplayEvents(file: string, format: EventFileFormat, onBadLine: (error: InputLineError) => void): ReplayEvent[] {
  const name = basename(file);
  const serde = avroSerde<TrajectoryEvent>('trajectory-event');
  const events: ReplayEvent[] = [];
  const bytes = readFileSync(file);
  if (format === 'avro') {
    // Nothing in a replay reads a candidate's tool or text (the topology gets the original bytes): skip them.
    const reader = avroSerde<TrajectoryEvent>('trajectory-event', { skipOnRead: ['candidates.tool', 'candidates.text'] });
    for (const { index, record } of unframe(bytes, name)) {
      try {
        events.push({ event: validateTrajectoryEvent(reader.deserialize(record)), bytes: record, line: index });
      } catch (cause) {
        onBadLine(new InputLineError(name, index, errorMessage(cause), { cause }));
      }
    }
    return events;
  }
  const text = bytes.toString('utf8');
  let line = 0;
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end);
    start = end + 1;
    if (raw.trim() === '') continue;
    try {
      const event = validateTrajectoryEvent(withDefaults(JSON.parse(raw)));
      events.push({ event, bytes: serde.serialize(event), line });
    } catch (cause) {
      onBadLine(new InputLineError(name, line, errorMessage(cause), { cause }));
    }
  }
  return events;
}

const NULLABLE = ['requestId', 'tool', 'domain', 'repo', 'errorType', 'agent', 'text', 'code', 'feedback'] as const;

function withDefaults(value: unknown): TrajectoryEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('a line must be a JSON object (one TrajectoryEvent)');
  const event = value as Record<string, unknown>;
  for (const field of NULLABLE) if (event[field] === undefined) event[field] = null;
  event.candidates ??= [];
  event.attributes ??= {};
  event.source ??= 'REAL';
  if (Array.isArray(event.candidates)) {
    for (const c of event.candidates as Record<string, unknown>[]) {
      if (c && typeof c === 'object') {
        c.tool ??= null;
        c.text ??= null;
      }
    }
  }
  if (event.feedback && typeof event.feedback === 'object') (event.feedback as Record<string, unknown>).actionId ??= null;
  return event as unknown as TrajectoryEvent;
}
