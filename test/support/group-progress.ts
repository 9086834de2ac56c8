import { KafkaJS } from '@confluentinc/kafka-javascript';

/**
 * Watches how far a consumer group got through a topic from the outside (admin API), without
 * joining the group: the committed offset of every partition against its end offset.
 */
export class GroupProgress {
  private readonly admin: KafkaJS.Admin;
  private connected?: Promise<void>;

  constructor(
    brokers: string,
    private readonly groupId: string,
    private readonly topic: string,
  ) {
    this.admin = quietAdmin(brokers);
  }

  /** Per partition: the next offset the group would read (-1 = nothing committed) and the end. */
  async offsets(): Promise<{ committed: number[]; end: number[] }> {
    await (this.connected ??= this.admin.connect());
    const [ends, committed] = await retryTransient(() =>
      Promise.all([this.admin.fetchTopicOffsets(this.topic), this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] })]),
    );
    const end: number[] = [];
    for (const p of ends) end[p.partition] = Number(p.high);
    const done: number[] = end.map(() => -1);
    for (const p of committed.find((t) => t.topic === this.topic)?.partitions ?? []) done[p.partition] = Number(p.offset);
    return { committed: done, end };
  }

  /** True once every partition's committed offset reached its end offset. */
  async caughtUp(): Promise<boolean> {
    const { committed, end } = await this.offsets();
    return end.every((e, partition) => committed[partition] >= e);
  }

  /** Records committed so far, summed over partitions. */
  async committedRecords(): Promise<number> {
    const { committed } = await this.offsets();
    return committed.reduce((sum, c) => sum + Math.max(0, c), 0);
  }

  async close(): Promise<void> {
    if (this.connected) await this.connected.then(() => this.admin.disconnect()).catch(() => undefined);
  }
}

/** An admin client that logs nothing: the watchers poll, and report what matters themselves. */
export function quietAdmin(brokers: string): KafkaJS.Admin {
  return new KafkaJS.Kafka({ kafkaJS: { brokers: brokers.split(','), logLevel: KafkaJS.logLevel.NOTHING } }).admin();
}

/**
 * A broker that just started answers group requests with "coordinator load in progress" (and a
 * new topic's metadata can lag) for a few seconds: the watcher polls anyway, so it asks again
 * and only gives up on an error that outlasts RETRY_WINDOW_MS.
 */
const RETRY_WINDOW_MS = 30_000;

export async function retryTransient<T>(request: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + RETRY_WINDOW_MS;
  for (;;) {
    try {
      return await request();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
