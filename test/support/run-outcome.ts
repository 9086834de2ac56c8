import type { Transport } from '../../src/topology/transport/types.js';
import type { RecommenderProcessOptions } from './recommender-process.js';
import { scoredRequestIds } from './recommender-topics.js';
import { snapshotStateDir, type StoreSnapshot } from './state-snapshot.js';
import { waitForSettledTransactions } from './transactions-settled.js';

/** What a run left behind: its RocksDB stores and how often it scored each request. */
export interface RunOutcome {
  state: Map<string, StoreSnapshot>;
  scored: Map<string, number>;
  /** Under exactly-once: how long the read waited for the score topic's open transactions to end, ms. */
  transactionWaitMs?: number;
}

/** Crash tests compare a killed run with a clean one by what each left behind, read here one way. */
export async function runOutcome(transport: Transport, options: RecommenderProcessOptions, partitions: number): Promise<RunOutcome> {
  // Read read_committed, the score topic ends at its first open transaction: the last commit's
  // markers may still be on their way, or a killed owner's transaction still open.
  const transactionWaitMs =
    options.processingGuarantee === 'exactly-once'
      ? await waitForSettledTransactions(options.brokers, options.settings.outputTopic)
      : undefined;
  return {
    transactionWaitMs,
    state: await snapshotStateDir(options.stateDir),
    scored: await scoredRequestIds(transport, options.settings.outputTopic, partitions),
  };
}
