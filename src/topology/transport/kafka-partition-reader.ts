import { randomUUID } from 'node:crypto';
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { AgentrecError, errorMessage } from '../../errors.js';
import { createClient, readerConfig } from './kafka-client-config.js';
import { isUnreachable, kafkaUnavailable } from './kafka-errors.js';
import { connectClient, consumeBatch, createNativeConsumer, disconnectClient } from './kafka-native.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import type { SourceRecord, TopicPartition } from './types.js';

/**
 * Reads one partition from `fromOffset` up to the end it had when the read began, with a
 * group-less read_committed consumer (assign(), nothing committed): the changelog restore path.
 * Listed read_committed, that end is the last stable offset: records of a transaction still open
 * then (a killed owner's, which the broker will abort) are not read. Records of aborted transactions and transaction markers are skipped, so the offsets
 * returned may have gaps and the last one may lie below the watermark.
 */
export async function* readPartitionToEnd(
  options: ResolvedKafkaOptions,
  target: TopicPartition,
  fromOffset?: number,
): AsyncGenerator<SourceRecord[]> {
  const reader = await openPartitionReader(options, `read ${target.topic}[${target.partition}]`);
  try {
    yield* reader.read(target, fromOffset);
  } finally {
    await reader.close();
  }
}

/** A connected group-less consumer that reads one partition to its end at a time, again and again. */
export interface PartitionReader {
  read(target: TopicPartition, fromOffset?: number): AsyncGenerator<SourceRecord[]>;
  close(): Promise<void>;
}

/**
 * `pollTimeoutMs`: how long one fetch call waits for a full chunk. A restore reads big partitions
 * once and takes the consumer's setting; a reader that reads a few new records every batch gives
 * a short one, or every read waits it out once the records it needs are in.
 */
export async function openPartitionReader(
  options: ResolvedKafkaOptions,
  what: string,
  pollTimeoutMs = options.consumer.pollTimeoutMs,
): Promise<PartitionReader> {
  // librdkafka's KafkaConsumer insists on a group.id even when it never joins the group.
  const config = readerConfig(options, `${options.clientId}-reader`, `agentrec-reader-${randomUUID()}`);
  const consumer = createClient(options, () => createNativeConsumer(config, pollTimeoutMs));
  consumer.on('event.error', () => undefined);
  // The read in progress: end-of-partition events update it (one read at a time per reader).
  const state = { endOffset: 0, reachedEnd: false, waitingForTransaction: false };
  // Reading read_committed, the end of what can be read is the last stable offset: an open
  // transaction (a crashed owner's, until the broker or its successor aborts it) holds it below
  // the high watermark, so a read that reached it waits for the transaction instead of failing.
  // An event left from an earlier read names an offset below this read's end, so it cannot end it.
  consumer.on('partition.eof', (eof) => {
    if (eof.offset >= state.endOffset) state.reachedEnd = true;
    else state.waitingForTransaction = true;
  });
  await connectClient(consumer, options.brokers, options.connectTimeoutMs, what);
  return {
    read: (target, fromOffset) => readAssigned(consumer, state, options, target, fromOffset),
    close: () => disconnectClient(consumer),
  };
}

async function* readAssigned(
  consumer: ReturnType<typeof createNativeConsumer>,
  state: { endOffset: number; reachedEnd: boolean; waitingForTransaction: boolean },
  options: ResolvedKafkaOptions,
  target: TopicPartition,
  fromOffset?: number,
): AsyncGenerator<SourceRecord[]> {
  const where = `${target.topic}[${target.partition}]`;
  state.reachedEnd = false;
  state.waitingForTransaction = false;
  state.endOffset = Infinity;
  try {
    const watermarks = await new Promise<RdKafka.WatermarkOffsets>((resolve, reject) => {
      consumer.queryWatermarkOffsets(target.topic, target.partition, options.connectTimeoutMs, (error, offsets) =>
        error ? reject(error) : resolve(offsets),
      );
    }).catch((error: unknown) => {
      throw isUnreachable(error)
        ? kafkaUnavailable(options.brokers, `read ${where}`, error)
        : new AgentrecError('CHANGELOG_RESTORE_FAILED', `cannot read ${where}: ${errorMessage(error)}`, { cause: error });
    });
    const endOffset = watermarks.highOffset;
    state.endOffset = endOffset;
    const start = Math.max(fromOffset ?? watermarks.lowOffset, watermarks.lowOffset);
    if (start >= endOffset) return;
    consumer.assign([{ topic: target.topic, partition: target.partition, offset: start }]);
    let next = start;
    let lastProgress = Date.now();
    while (next < endOffset && !state.reachedEnd) {
      const messages = await consumeBatch(consumer, options.consumer.maxBatchSize).catch((error: unknown) => {
        throw isUnreachable(error)
          ? kafkaUnavailable(options.brokers, `read ${where}`, error)
          : new AgentrecError('CHANGELOG_RESTORE_FAILED', `cannot read ${where}: ${errorMessage(error)}`, { cause: error });
      });
      if (messages.length === 0) {
        // Records below the watermark exist, so a long silence means the broker went away.
        const patience = options.connectTimeoutMs + (state.waitingForTransaction ? options.producer.transactionTimeoutMs : 0);
        if (Date.now() - lastProgress > patience) {
          throw kafkaUnavailable(options.brokers, `read ${where} (stalled at offset ${next} of ${endOffset})`);
        }
        continue;
      }
      lastProgress = Date.now();
      state.waitingForTransaction = false;
      // Records appended after the read began belong to the live stream, not to this restore.
      let count = messages.length;
      while (count > 0 && messages[count - 1].offset >= endOffset) count--;
      const chunk = count === messages.length ? messages : messages.slice(0, count);
      if (chunk.length === 0) break;
      for (const message of chunk) {
        message.key ??= null;
        message.timestamp ??= 0;
      }
      next = chunk[chunk.length - 1].offset + 1;
      yield chunk as SourceRecord[];
    }
  } finally {
    // Unassigned, the reader drops what it fetched past this read; the next read assigns afresh.
    try {
      consumer.unassign();
    } catch {
      // Not connected any more: the caller closes this reader.
    }
  }
}
