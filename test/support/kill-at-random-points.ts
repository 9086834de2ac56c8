import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { GroupProgress } from './group-progress.js';
import { RecommenderProcess, type RecommenderProcessOptions } from './recommender-process.js';

/**
 * Crash tests SIGKILL the same run again and again at random points, most while partitions are
 * processed and some during start-up, join and restore: the loop lives here once.
 * `pauseAfterAssignment` draws how long to let an assigned process work before its kill.
 * Returns the records the group had committed at each kill.
 */
export async function killAtRandomPoints(
  options: RecommenderProcessOptions,
  input: string,
  kills: number,
  pauseAfterAssignment: () => number,
): Promise<number[]> {
  const progress = new GroupProgress(options.brokers, options.group, input);
  const committedAtKill: number[] = [];
  try {
    for (let kill = 0; kill < kills; kill++) {
      const process = new RecommenderProcess(options);
      if (Math.random() < 0.2) {
        await sleep(Math.random() * 1500);
      } else {
        await process.running();
        for (const deadline = Date.now() + 60_000; !process.log.includes('assigned partitions'); await sleep(10)) {
          if (Date.now() > deadline) throw new Error(`never assigned:\n${process.log}`);
        }
        await sleep(pauseAfterAssignment());
      }
      const exit = await process.kill();
      expect(exit.signal, process.log).toBe('SIGKILL');
      committedAtKill.push(await progress.committedRecords());
    }
  } finally {
    await progress.close();
  }
  return committedAtKill;
}
