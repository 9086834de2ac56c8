import { setTimeout as sleep } from 'node:timers/promises';
import { GroupProgress } from './group-progress.js';
import { RecommenderProcess, type RecommenderProcessOptions } from './recommender-process.js';

/** Takeover and fencing tests need a first instance that has committed part of the input (within 60 s) before they disturb it: started here once. */
export async function startWithProgress(options: RecommenderProcessOptions, input: string, records: number): Promise<RecommenderProcess> {
  const progress = new GroupProgress(options.brokers, options.group, input);
  const instance = new RecommenderProcess(options);
  try {
    await instance.running();
    for (const deadline = Date.now() + 60_000; (await progress.committedRecords()) < records; await sleep(50)) {
      if (Date.now() > deadline) throw new Error(`instance A made no progress:\n${instance.log}`);
    }
  } finally {
    await progress.close();
  }
  return instance;
}
