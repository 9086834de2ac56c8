import { AgentrecError, errorCode, errorMessage } from '../../errors.js';
import type { RuntimeMetrics } from '../../metrics.js';
import type { Topology } from '../topology.js';
import type { OutputRecord, Producer, SourceRecord } from '../transport/types.js';
import type { Batch, RecordMeta, Serde } from '../types.js';
import { recordBytes, serializeDeadLetter, type DeadLetterRecord } from './dead-letter.js';
import { DeadLetterLog } from './dead-letter-log.js';

export interface RecordCollectorDeps {
  topology: Topology;
  partition: number;
  producer: Producer;
  metrics: RuntimeMetrics;
  deadLetterSerde: Serde<DeadLetterRecord>;
  /** Largest record (key + value) sent: bigger outputs are dead-lettered, bigger dead letters cut. */
  maxMessageBytes: number;
  now(): number;
  log(message: string): void;
  /** Rate-limited dead-letter lines, shared by the runner's tasks; default: one per collector. */
  deadLetterLog?: DeadLetterLog;
}

/**
 * Where a task's records leave it: the sink's outputs and the dead letters of one batch go out
 * together, and stay tracked until acknowledged. A commit calls flush() first, so no input offset
 * is committed past an output that was not delivered.
 */
export class RecordCollector {
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightRecords = 0;
  private sendFailure: unknown;
  private deadLetters: OutputRecord[] = [];
  /** The batch being processed, for dead letters (raw bytes) and the sink (raw keys). */
  private currentRaw: SourceRecord[] = [];
  private readonly labels: { topology: string; partition: string };
  private readonly deadLetterLog: DeadLetterLog;

  constructor(private readonly deps: RecordCollectorDeps) {
    this.labels = { topology: deps.topology.name, partition: String(deps.partition) };
    this.deadLetterLog = deps.deadLetterLog ?? new DeadLetterLog((message) => deps.log(message));
  }

  /** Output records sent and not yet acknowledged (drives backpressure). */
  get pendingRecords(): number {
    return this.inFlightRecords;
  }

  /** The source records of the batch now in the pipeline: dead letters carry their bytes. */
  startBatch(records: SourceRecord[]): void {
    this.currentRaw = records;
  }

  /** Serializes the batch's outputs for the sink and sends them with the batch's dead letters. */
  sendBatch(out: Batch<unknown>): void {
    const sink = this.deps.topology.sink;
    const outputs: OutputRecord[] = [];
    for (const record of out.records) {
      try {
        let key: Buffer | null;
        if (sink.key) {
          const chosen = sink.key(record.value, record.meta);
          key = chosen === null ? null : Buffer.from(chosen);
        } else {
          // Keyed as the input: reuse the input's key bytes instead of re-encoding the string.
          key = this.rawRecord(record.meta.offset)?.key ?? (record.meta.key === null ? null : Buffer.from(record.meta.key));
        }
        const value = sink.serde.serialize(record.value);
        if (recordBytes(key, value) > this.deps.maxMessageBytes) throw this.oversized(key, value);
        outputs.push({ topic: sink.topic, key, value });
      } catch (err) {
        this.deadLetter(sink.name, record.meta, err);
      }
    }
    this.deps.metrics.recordsOut.inc({ ...this.labels, step: sink.name }, outputs.length);
    const toSend = this.deadLetters.length ? outputs.concat(this.deadLetters.splice(0)) : outputs;
    this.currentRaw = [];
    if (toSend.length > 0) this.send(toSend);
  }

  /** Queues the record at `meta` for the dead-letter topic; it goes out with its batch's outputs. */
  deadLetter(stepName: string, meta: RecordMeta, error: unknown): void {
    const raw = this.rawRecord(meta.offset);
    const code = errorCode(error);
    const record: DeadLetterRecord = {
      topology: this.deps.topology.name,
      step: stepName,
      errorCode: code,
      reason: errorMessage(error),
      sourceTopic: meta.topic,
      sourcePartition: meta.partition,
      sourceOffset: meta.offset,
      key: raw?.key ?? (meta.key === null ? null : Buffer.from(meta.key)),
      value: raw?.value ?? null,
      failedAt: this.deps.now(),
    };
    this.deps.metrics.deadLettered.inc({ ...this.labels, step: stepName, code });
    this.deadLetterLog.record(stepName, code, meta);
    const { key, value } = serializeDeadLetter(record, this.deps.deadLetterSerde, this.deps.maxMessageBytes);
    this.deadLetters.push({ topic: this.deps.topology.deadLetterTopic, key, value });
  }

  /** Resolves once in-flight outputs drop to `threshold` records or fewer. */
  async whenPendingBelow(threshold: number): Promise<void> {
    while (this.inFlightRecords > threshold && this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  /** Waits for every output sent so far; throws if any was not delivered. */
  async flush(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.sendFailure !== undefined) {
      const message = `outputs of partition ${this.deps.partition} were not delivered: ${errorMessage(this.sendFailure)}`;
      throw new AgentrecError('KAFKA_DELIVERY_FAILED', message, { cause: this.sendFailure });
    }
  }

  /** Lets the sends in flight settle, delivered or not. */
  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }

  private oversized(key: Buffer | null, value: Buffer): AgentrecError {
    const size = (key?.length ?? 0) + value.length;
    const limit = this.deps.maxMessageBytes;
    return new AgentrecError('ENCODE_FAILED', `output of ${size} bytes (key + value) is over maxMessageBytes (${limit}) with framing`);
  }

  private send(records: OutputRecord[]): void {
    const count = records.length;
    this.inFlightRecords += count;
    this.deps.metrics.inFlight.set(this.labels, this.inFlightRecords);
    // A failed delivery is kept and rethrown by the next flush, so nothing is committed past it.
    const sent: Promise<void> = this.deps.producer.send(records).then(
      () => undefined,
      (err) => {
        this.sendFailure ??= err;
      },
    );
    const tracked = sent.finally(() => {
      this.inFlight.delete(tracked);
      this.inFlightRecords -= count;
      this.deps.metrics.inFlight.set(this.labels, this.inFlightRecords);
    });
    this.inFlight.add(tracked);
  }

  /** The source record at `offset` in the current batch (offsets of one poll are usually contiguous). */
  private rawRecord(offset: number): SourceRecord | undefined {
    const records = this.currentRaw;
    if (records.length === 0) return undefined;
    const guess = records[offset - records[0].offset];
    return guess?.offset === offset ? guess : records.find((r) => r.offset === offset);
  }
}
