import type { TransactionalProducer } from '../transport/types.js';
import { CommitBarrier } from './commit-barrier.js';
import type { PartitionTask } from './partition-task.js';

/**
 * One exactly-once commit (Kafka Streams' exactly-once v2 shape: one transaction for all of the
 * instance's tasks). Every task sends what it still holds and publishes its changelogs into the
 * open transaction and then waits; the transaction commits with every task's input offset; only
 * then do the tasks write their stores to RocksDB. A transaction that does not commit is aborted
 * and no store is written, so local state never holds an aborted transaction's effects: after a
 * restart it is at or behind the committed offsets, and the restorer brings it forward from the
 * changelog, whose readers see committed records only.
 *
 * Returns partition → committed input offset (next to read); throws (KAFKA_TRANSACTION_FAILED or
 * the failing task's error) when the transaction was aborted, which the runner treats as fatal:
 * the tasks' in-memory state has run ahead of what is committed.
 */
export async function commitTransaction(
  tasks: readonly PartitionTask[],
  producer: TransactionalProducer,
  sourceTopic: string,
): Promise<ReadonlyMap<number, number>> {
  if (!producer.inTransaction && !tasks.some((task) => task.uncommitted)) return new Map();
  const barrier = new CommitBarrier(tasks.length);
  const commits = tasks.map((task) =>
    task.commit(barrier.forTask(task.partition)).catch((error: unknown) => {
      barrier.fail(error);
      throw error;
    }),
  );
  try {
    const offsets = await barrier.arrived;
    await producer.commitTransaction([...offsets].map(([partition, offset]) => ({ topic: sourceTopic, partition, offset })));
  } catch (error) {
    barrier.abort(error);
    await Promise.allSettled(commits);
    await producer.abortTransaction().catch(() => undefined);
    throw error;
  }
  barrier.release();
  await Promise.all(commits);
  return barrier.arrived;
}
