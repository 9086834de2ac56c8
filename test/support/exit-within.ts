import type { Exit, RecommenderProcess } from './recommender-process.js';

/**
 * The process's exit, if it comes within `timeoutMs`. Otherwise the process prints where its
 * partitions stand (SIGUSR2), is killed, and the returned promise rejects with the end of its
 * log: a test expecting an exit then fails saying why, instead of at its own timeout with nothing.
 */
export async function exitWithin(process: RecommenderProcess, timeoutMs: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const first = await Promise.race([process.exited, timedOut]).finally(() => clearTimeout(timer));
  if (first !== 'timeout') return first;
  await process.describe();
  await process.kill();
  throw new Error(`recommender process still running after ${timeoutMs} ms; its log ends:\n${process.log.slice(-6000)}`);
}
