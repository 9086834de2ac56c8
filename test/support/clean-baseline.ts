import { expect } from 'vitest';
import type { Transport } from '../../src/topology/transport/types.js';
import type { RecommenderProcessOptions } from './recommender-process.js';
import { runOutcome, type RunOutcome } from './run-outcome.js';
import { runUntilConsumed } from './run-until-consumed.js';

/** Crash tests need an uninterrupted run to compare with, and one that learned, or the comparison means nothing: made and checked here once. */
export async function cleanBaseline(
  transport: Transport,
  clean: RecommenderProcessOptions,
  input: string,
  partitions: number,
  events: number,
): Promise<RunOutcome> {
  // Different batching and commit points on purpose: state must not depend on them.
  await runUntilConsumed({ ...clean, maxBatch: 5000, commitIntervalMs: 1000 }, input);
  const baseline = await runOutcome(transport, clean, partitions);
  // Rows, requests, sessions and action histories in every partition.
  expect(baseline.state.size).toBe(4 * partitions);
  for (const [store, snapshot] of baseline.state) expect(snapshot.entries.size, store).toBeGreaterThan(0);
  // Every partition's rows store holds candidate-cross chunks: the crosses are among what must come out byte-identical.
  const crossChunk = Buffer.from('model\u0000cross/', 'latin1').toString('hex');
  for (const [store, snapshot] of baseline.state)
    if (store.startsWith('rec/'))
      expect(
        [...snapshot.entries.keys()].some((key) => key.startsWith(crossChunk)),
        store,
      ).toBe(true);
  expect(baseline.scored.size).toBeGreaterThan(events / 10);
  return baseline;
}
