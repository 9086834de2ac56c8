import { RdKafka } from '@confluentinc/kafka-javascript';
import { AgentrecError, errorMessage } from '../../errors.js';
import { createClient, producerConfig } from './kafka-client-config.js';
import type { BrokerConnectionMonitor } from './kafka-connection-monitor.js';
import { LibrdkafkaCode, librdkafkaCode } from './kafka-errors.js';
import { connectClient, disconnectClient } from './kafka-native.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import type { OutputRecord, Producer } from './types.js';

/** How long send() sleeps when librdkafka's local queue is full, waiting for acknowledgements. */
const QUEUE_FULL_BACKOFF_MS = 2;

/**
 * The binding hands delivery reports to JavaScript at most this many per event-loop turn. A
 * runtime busy with large batches turns the loop only a few times per second, so reports can pile
 * up and a commit wait seconds for acknowledgements the broker sent long ago (see
 * bench/README.md, "Acknowledgements lagging seconds behind the broker").
 */
const REPORTS_PER_TURN = 100;

/**
 * How long close() waits for records still queued when deliveries never time out by themselves
 * (messageTimeoutMs 0): a close must end, and commits already awaited what they needed.
 */
const CLOSE_FLUSH_MS = 30_000;

/**
 * One send() call. Every record of the call carries this object as its delivery-report opaque,
 * so a send costs one promise, not one per record.
 */
class PendingSend {
  private remaining: number;
  private failed = 0;
  private firstFailure: unknown;
  private readonly topics = new Set<string>();
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (error: unknown) => void;

  constructor(
    count: number,
    private readonly onReport: () => void,
  ) {
    this.remaining = count;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  settle(error: unknown, topic: string): void {
    this.onReport();
    if (error) {
      this.failed++;
      this.firstFailure ??= error;
      this.topics.add(topic);
    }
    if (--this.remaining > 0) return;
    if (this.failed === 0) {
      this.resolve();
      return;
    }
    this.reject(
      new AgentrecError(
        'KAFKA_DELIVERY_FAILED',
        `${this.failed} record(s) to ${[...this.topics].join(', ')} were not delivered: ${errorMessage(this.firstFailure)}`,
        { cause: this.firstFailure },
      ),
    );
  }
}

/** Idempotent, batching producer; send() resolves when every record of the call is acknowledged. */
export class KafkaProducer implements Producer {
  protected readonly client: RdKafka.Producer;
  private connection: Promise<void> | undefined;
  private connected = false;
  /** Records produced whose delivery report has not reached JavaScript yet. */
  private unacknowledged = 0;
  /** Delivery reports received so far (a running count). */
  private reports = 0;
  private readonly reported = () => {
    this.unacknowledged--;
    this.reports++;
  };
  private closing: Promise<void> | undefined;

  constructor(
    protected readonly options: ResolvedKafkaOptions,
    clientId: string,
    private readonly monitor?: BrokerConnectionMonitor,
    config = producerConfig(options, clientId),
  ) {
    this.client = createClient(options, () => new RdKafka.Producer(config.global, config.topic));
    this.client.on('delivery-report', (error, report) => {
      (report.opaque as PendingSend).settle(error, report.topic);
    });
    // Errors librdkafka recovers from by itself (reconnects) arrive here too: they only tell the
    // monitor about the connection; failures that matter reach the caller through delivery reports.
    if (monitor) monitor.watch(this.client);
    else this.client.on('event.error', () => undefined);
  }

  async send(records: OutputRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (this.closing) {
      throw new AgentrecError('KAFKA_DELIVERY_FAILED', `${records.length} record(s) not sent: the producer is closed`);
    }
    if (!this.connected) await this.connect();
    const pending = new PendingSend(records.length, this.reported);
    this.unacknowledged += records.length;
    // A plain loop, no await per record: the only pause is when librdkafka's queue is full.
    for (let index = 0; index < records.length;) {
      const record = records[index];
      try {
        this.client.produce(record.topic, record.partition ?? -1, record.value, record.key, null, pending);
        index++;
      } catch (error) {
        if (librdkafkaCode(error) === LibrdkafkaCode.QUEUE_FULL) {
          await new Promise((resolve) => setTimeout(resolve, QUEUE_FULL_BACKOFF_MS));
          continue;
        }
        // Refused locally (e.g. an explicit partition the topic does not have): no report follows.
        pending.settle(error, record.topic);
        index++;
      }
    }
    return pending.done;
  }

  /**
   * Turns the event loop while the binding is handing over full rations of delivery reports,
   * i.e. while reports are queued on our side; stops as soon as a turn brings fewer, so it never
   * waits for the broker itself, and after enough turns for what was unacknowledged on entry, so
   * records other tasks produce meanwhile cannot keep it turning.
   */
  async catchUpAcknowledgements(): Promise<void> {
    for (let turns = Math.ceil(this.unacknowledged / REPORTS_PER_TURN); turns > 0; turns--) {
      const before = this.reports;
      await new Promise((resolve) => setImmediate(resolve));
      if (this.reports - before < REPORTS_PER_TURN) return;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  protected connect(): Promise<void> {
    this.connection ??= connectClient(this.client, this.options.brokers, this.options.connectTimeoutMs, 'connect the producer').then(() => {
      // A librdkafka thread serves delivery reports, so no JS timer has to poll for them.
      this.client.setPollInBackground(true);
      this.connected = true;
    });
    return this.connection;
  }

  protected async shutDown(): Promise<void> {
    if (!this.connection) return;
    try {
      await this.connection;
    } catch {
      return;
    }
    await new Promise<void>((resolve) => {
      this.client.flush(this.options.producer.messageTimeoutMs || CLOSE_FLUSH_MS, () => resolve());
    });
    this.monitor?.forget(this.client);
    await disconnectClient(this.client);
  }
}
