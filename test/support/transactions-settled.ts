import { KafkaJS } from '@confluentinc/kafka-javascript';
import { quietAdmin, retryTransient } from './group-progress.js';

/**
 * Waits until no transaction is open on any partition of `topic`: its last stable offset (the end
 * a read_committed reader sees) equals its high watermark. A process killed mid-transaction under
 * a transactional id nobody reuses leaves its transaction open until the broker times it out, and
 * until then read_committed readers stop at it, missing everything committed after it.
 * Returns the milliseconds it waited.
 */
export async function waitForSettledTransactions(brokers: string, topic: string, timeoutMs = 90_000): Promise<number> {
  const admin = quietAdmin(brokers);
  const ends = (isolationLevel: KafkaJS.IsolationLevel) =>
    retryTransient(() => admin.fetchTopicOffsets(topic, { isolationLevel })).then((offsets) =>
      offsets.sort((a, b) => a.partition - b.partition).map((p) => p.high),
    );
  const started = Date.now();
  await admin.connect();
  try {
    for (;;) {
      const stable = await ends(KafkaJS.IsolationLevel.READ_COMMITTED);
      const high = await ends(KafkaJS.IsolationLevel.READ_UNCOMMITTED);
      if (stable.every((offset, partition) => offset === high[partition])) return Date.now() - started;
      if (Date.now() - started > timeoutMs) {
        throw new Error(`${topic} still has an open transaction after ${timeoutMs} ms: stable ${stable} against high ${high}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await admin.disconnect();
  }
}
