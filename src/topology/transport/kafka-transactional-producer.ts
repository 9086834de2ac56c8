import type { RdKafka } from '@confluentinc/kafka-javascript';
import { AgentrecError, errorMessage } from '../../errors.js';
import { transactionalProducerConfig } from './kafka-client-config.js';
import type { BrokerConnectionMonitor } from './kafka-connection-monitor.js';
import { LibrdkafkaCode, librdkafkaCode } from './kafka-errors.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import { KafkaProducer } from './kafka-producer.js';
import type { CommitOffset, OutputRecord, TransactionalProducer } from './types.js';

/** librdkafka's answers that mean a newer producer with the same transactional id took over. */
const FENCED_CODES: ReadonlySet<number> = new Set([
  LibrdkafkaCode.FENCED,
  LibrdkafkaCode.PRODUCER_FENCED,
  LibrdkafkaCode.INVALID_PRODUCER_EPOCH,
]);

/** Between two attempts of a transactional call librdkafka called retriable (e.g. during an outage). */
const RETRY_BACKOFF_MS = 500;

/**
 * The exactly-once producer: librdkafka's transactional producer (the node-rdkafka-style API
 * of @confluentinc/kafka-javascript: initTransactions, beginTransaction, sendOffsetsToTransaction,
 * commitTransaction, abortTransaction). One per process, as in Kafka Streams' exactly-once v2:
 * every task's outputs and changelog records share the open transaction, and a commit adds the
 * input offsets with the consumer's group metadata, so a member the group replaced is fenced.
 */
export class KafkaTransactionalProducer extends KafkaProducer implements TransactionalProducer {
  private open = false;
  private beginning: Promise<void> | undefined;
  /** Settles when the commit in progress ended; sends meanwhile wait and open the next transaction. */
  private committing: Promise<void> | undefined;
  private initialized = false;

  constructor(
    options: ResolvedKafkaOptions,
    clientId: string,
    private readonly transactionalId: string,
    private readonly consumer: RdKafka.KafkaConsumer,
    monitor?: BrokerConnectionMonitor,
  ) {
    super(options, clientId, monitor, transactionalProducerConfig(options, clientId, transactionalId));
  }

  get inTransaction(): boolean {
    return this.open || this.beginning !== undefined;
  }

  async initTransactions(): Promise<void> {
    await this.connect();
    await this.call('initialize transactions', (done) => this.client.initTransactions(this.timeoutMs, done));
    this.initialized = true;
  }

  override async send(records: OutputRecord[]): Promise<void> {
    if (records.length === 0) return;
    while (this.committing) await this.committing;
    if (!this.open) await this.begin();
    return super.send(records);
  }

  async commitTransaction(offsets: CommitOffset[]): Promise<void> {
    let ended!: () => void;
    this.committing = new Promise<void>((resolve) => (ended = resolve));
    try {
      if (!this.open) await this.begin();
      if (offsets.length > 0) {
        const list = offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
        await this.call('send offsets to the transaction', (done) =>
          this.client.sendOffsetsToTransaction(list, this.consumer, this.timeoutMs, done),
        );
      }
      await this.call('commit the transaction', (done) => this.client.commitTransaction(this.timeoutMs, done));
      this.open = false;
    } finally {
      this.committing = undefined;
      ended();
    }
  }

  async abortTransaction(): Promise<void> {
    await this.beginning?.catch(() => undefined);
    if (!this.open) return;
    this.open = false;
    await this.call('abort the transaction', (done) => this.client.abortTransaction(this.timeoutMs, done));
  }

  /** An open transaction is aborted first: its records must not wait for the broker's timeout. */
  protected override async shutDown(): Promise<void> {
    await this.abortTransaction().catch(() => undefined);
    await super.shutDown();
  }

  private get timeoutMs(): number {
    return this.options.producer.transactionTimeoutMs;
  }

  private begin(): Promise<void> {
    if (!this.initialized) {
      throw new AgentrecError('TASK_STATE_ILLEGAL', `transactional producer '${this.transactionalId}' used before initTransactions()`);
    }
    this.beginning ??= this.call('begin a transaction', (done) => this.client.beginTransaction(done)).then(
      () => {
        this.open = true;
        this.beginning = undefined;
      },
      (error: unknown) => {
        this.beginning = undefined;
        throw error;
      },
    );
    return this.beginning;
  }

  /**
   * One transactional call, repeated while librdkafka calls its failure retriable (a broker
   * outage, a coordinator moving); any other failure is KAFKA_TRANSACTION_FAILED.
   */
  private async call(action: string, invoke: (done: (error: RdKafka.LibrdKafkaError | null) => void) => void): Promise<void> {
    for (;;) {
      const error = await new Promise<RdKafka.LibrdKafkaError | null>((resolve) => invoke((failure) => resolve(failure ?? null)));
      if (!error) return;
      if (error.isRetriable && !error.isFatal && !error.isTxnRequiresAbort) {
        await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS));
        continue;
      }
      throw this.failure(action, error);
    }
  }

  private failure(action: string, error: RdKafka.LibrdKafkaError): AgentrecError {
    const code = librdkafkaCode(error);
    const fenced = code !== undefined && FENCED_CODES.has(code);
    const why = fenced
      ? `fenced: a newer producer with transactional id '${this.transactionalId}' took over (two instances with one --instance-id?)`
      : errorMessage(error);
    return new AgentrecError('KAFKA_TRANSACTION_FAILED', `cannot ${action} (transactional id '${this.transactionalId}'): ${why}`, {
      cause: error,
    });
  }
}
