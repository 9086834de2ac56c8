import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { InputLineError, errorMessage } from '../../errors.js';
import type { TrajectoryEvent } from '../records.js';
import { validateTrajectoryEvent } from '../validate-trajectory-event.js';
import { ChatTranscriptMapper, type ChatImportStats, type ChatTranscriptOptions } from './chat-transcripts.js';
import type { EventSink } from './event-sink.js';
import { readJsonRecords } from './json-records.js';
import { RatingsMapper, type RatingsOptions } from './ratings.js';

export interface ImportHooks {
  /** Called for every line that could not be imported; the import goes on. */
  onBadLine?(error: InputLineError): void;
  /** Called now and then with the lines read so far (for a progress line). */
  onProgress?(lines: number, events: number): void;
  /** Events handed to the sink at a time (default 1000). */
  batchEvents?: number;
}

export interface ImportResult {
  /** Input lines (JSONL) or array elements (JSON) or data rows (ratings) read. */
  records: number;
  events: number;
  badLines: number;
}

/** Imports a chat-transcript file (JSON array or JSONL, one session per element). */
export async function importChatTranscripts(
  file: string,
  options: ChatTranscriptOptions,
  sink: EventSink,
  hooks: ImportHooks = {},
): Promise<ImportResult & { stats: ChatImportStats }> {
  const mapper = new ChatTranscriptMapper(options);
  const name = basename(file);
  const writer = new BatchedWriter(sink, hooks);
  for await (const record of readJsonRecords(file)) {
    if (record.error) writer.reject(record.error);
    else writer.accept(() => mapper.map(record.value, name, record.line), name, record.line);
    await writer.maybeFlush();
  }
  return { ...(await writer.finish()), stats: mapper.stats };
}

/** Imports a ratings file (CSV/TSV): REQUEST + RATING per data line. */
export async function importRatings(
  file: string,
  options: RatingsOptions,
  sink: EventSink,
  hooks: ImportHooks = {},
): Promise<ImportResult> {
  const mapper = new RatingsMapper(file, options);
  const name = basename(file);
  const writer = new BatchedWriter(sink, hooks);
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    if (line === 1 && mapper.header) {
      mapper.readHeader(text);
      continue;
    }
    writer.accept(() => mapper.map(text, line, name), name, line);
    await writer.maybeFlush();
  }
  return writer.finish();
}

/**
 * Collects the events of good lines and hands them to the sink in batches; a line whose mapping
 * or validation fails is reported and skipped, never taking other lines with it.
 */
class BatchedWriter {
  private pending: TrajectoryEvent[] = [];
  private records = 0;
  private events = 0;
  private badLines = 0;
  private readonly batch: number;

  constructor(
    private readonly sink: EventSink,
    private readonly hooks: ImportHooks,
  ) {
    this.batch = hooks.batchEvents ?? 1000;
  }

  accept(map: () => TrajectoryEvent[], file: string, line: number): void {
    this.records++;
    let events: TrajectoryEvent[];
    try {
      events = map();
      // The same checks a topology's decode step runs: an event it would dead-letter is a bad line here.
      for (const event of events) validateTrajectoryEvent(event);
    } catch (cause) {
      this.bad(cause instanceof InputLineError ? cause : new InputLineError(file, line, errorMessage(cause), { cause }));
      return;
    }
    for (const event of events) this.pending.push(event);
  }

  /** A record that could not even be read (not JSON). */
  reject(error: InputLineError): void {
    this.records++;
    this.bad(error);
  }

  private bad(error: InputLineError): void {
    this.badLines++;
    this.hooks.onBadLine?.(error);
  }

  async maybeFlush(): Promise<void> {
    if (this.pending.length >= this.batch) await this.flush();
  }

  async finish(): Promise<ImportResult> {
    await this.flush();
    return { records: this.records, events: this.events, badLines: this.badLines };
  }

  private async flush(): Promise<void> {
    if (!this.pending.length) return;
    const events = this.pending;
    this.pending = [];
    await this.sink.write(events);
    this.events += events.length;
    this.hooks.onProgress?.(this.records, this.events);
  }
}
