import { RdKafka } from '@confluentinc/kafka-javascript';
import type { ClientConfig } from './kafka-client-config.js';
import { kafkaUnavailable, withTimeout } from './kafka-errors.js';

/**
 * The consumer methods the transport relies on that the package's .d.ts leaves out (they exist
 * in lib/kafka-consumer.js of @confluentinc/kafka-javascript 1.10), plus promise wrappers over
 * the callback API.
 */
export interface NativeConsumer extends RdKafka.KafkaConsumer {
  incrementalAssign(assignments: RdKafka.Assignment[]): this;
  incrementalUnassign(assignments: RdKafka.Assignment[]): this;
  rebalanceProtocol(): 'NONE' | 'COOPERATIVE' | 'EAGER';
  assignmentLost(): boolean;
  setDefaultIsTimeoutOnlyForFirstMessage(onlyForFirst: boolean): void;
  commitCb(offsets: RdKafka.TopicPartitionOffset[], cb: (error: RdKafka.LibrdKafkaError | null) => void): this;
}

/**
 * A consumer whose consume(n) returns as soon as it has the first record plus whatever else is
 * already fetched, instead of waiting the whole poll timeout to fill n.
 */
export function createNativeConsumer(
  config: ClientConfig<RdKafka.ConsumerGlobalConfig, RdKafka.ConsumerTopicConfig>,
  pollTimeoutMs: number,
): NativeConsumer {
  const consumer = new RdKafka.KafkaConsumer(config.global, config.topic) as NativeConsumer;
  consumer.setDefaultConsumeTimeout(pollTimeoutMs);
  consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
  return consumer;
}

/** Connects within `timeoutMs` or rejects with KAFKA_UNAVAILABLE naming the brokers. */
export async function connectClient(
  client: RdKafka.KafkaConsumer | RdKafka.Producer,
  brokers: string,
  timeoutMs: number,
  action: string,
): Promise<void> {
  const connected = new Promise<void>((resolve, reject) => {
    client.connect({ allTopics: false, timeout: timeoutMs }, (error) => (error ? reject(error) : resolve()));
  });
  try {
    // The client's own timeout covers the metadata request; the outer one also bounds the connect.
    await withTimeout(connected, timeoutMs + 1000, () => new Error(`no answer within ${timeoutMs} ms`));
  } catch (error) {
    if (client.isConnected()) client.disconnect(() => undefined);
    throw kafkaUnavailable(brokers, action, error);
  }
}

export function consumeBatch(consumer: RdKafka.KafkaConsumer, maxRecords: number): Promise<RdKafka.Message[]> {
  return new Promise((resolve, reject) => {
    consumer.consume(maxRecords, (error, messages) => (error ? reject(error) : resolve(messages)));
  });
}

export function disconnectClient(client: RdKafka.KafkaConsumer | RdKafka.Producer): Promise<void> {
  return new Promise((resolve) => {
    client.disconnect(() => resolve());
  });
}
