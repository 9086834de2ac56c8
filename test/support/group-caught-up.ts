import { eventually } from './eventually.js';
import { GroupProgress } from './group-progress.js';

/** Tests that stream into a live run wait the same way (120 s, polled every 500 ms) for its group to commit the whole input before they read the outputs. */
export async function untilGroupCaughtUp(
  brokers: string,
  group: string,
  topic: string,
  /** Turns a timeout into a more telling error (with the run's log, the offsets); throws. */
  explain?: (error: unknown, progress: GroupProgress) => Promise<never>,
): Promise<void> {
  const progress = new GroupProgress(brokers, group, topic);
  try {
    const caughtUp = eventually(() => progress.caughtUp(), 'the group to consume the whole input', { timeoutMs: 120_000, pollMs: 500 });
    await (explain ? caughtUp.catch((error: unknown) => explain(error, progress)) : caughtUp);
  } finally {
    await progress.close();
  }
}
