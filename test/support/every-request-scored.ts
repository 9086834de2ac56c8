import { expect } from 'vitest';
import type { Transport } from '../../src/topology/transport/types.js';
import { requestIdsIn, scoredRequestIds } from './recommender-topics.js';

/** Tests that stream into a run they break check its output one way: enough requests streamed and every one scored; returns the counts for their log line. */
export async function expectEveryRequestScored(
  transport: Transport,
  input: string,
  output: string,
  partitions: number,
  minRequests: number,
): Promise<{ requests: number; duplicates: number }> {
  const requests = await requestIdsIn(transport, input, partitions);
  const scored = await scoredRequestIds(transport, output, partitions);
  expect(requests.size).toBeGreaterThan(minRequests);
  expect([...requests].filter((id) => !scored.has(id))).toEqual([]);
  const duplicates = [...scored.values()].reduce((sum, n) => sum + n - 1, 0);
  return { requests: requests.size, duplicates };
}
