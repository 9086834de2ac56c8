/**
 * Partition counts side by side at a chosen replay batch size: progressive hit@1 after warm-up of
 * the model and the baselines, with the time each replay took.
 *
 *   npx tsx bench/experiments/partition-counts.ts chat|more|sim <events per settle> '[{"partitions":"1"},{"partitions":"4"}]'
 *   chat: the fixture's first half (HALF=test for the second); more: 2,600 generated sessions;
 *   sim: the simulator (SWEEP_SEED, SIM_EVENTS).
 */
import { hitAt1AfterWarmup, transcriptEvents, simulatedEvents, moreTranscriptEvents } from '../learning-datasets.js';
import { replay } from '../../src/recommender/replay/replay.js';
import agentRecommender from '../../topologies/agent-recommender.js';
import { SIMULATED_SCENARIO } from '../../topologies/agent-recommender.js';
const which = process.argv[2];
const be = Number(process.argv[3]);
const grid = JSON.parse(process.argv[4]);
const events =
  which === 'sim'
    ? simulatedEvents({ ...SIMULATED_SCENARIO, seed: Number(process.env.SWEEP_SEED ?? 101) }, Number(process.env.SIM_EVENTS ?? 20000))
    : which === 'more'
      ? await moreTranscriptEvents(2600)
      : await transcriptEvents((process.env.HALF ?? 'train') as 'train');
for (const settings of grid) {
  const t = performance.now();
  const r = await replay({
    topology: agentRecommender({ transport: 'embedded', settings }),
    events,
    maxBatch: Number(process.env.MAX_BATCH ?? 50),
    batchEvents: be,
  });
  console.log(
    which,
    be,
    JSON.stringify(settings),
    JSON.stringify(Object.fromEntries(Object.entries(hitAt1AfterWarmup(r)).map(([k, v]) => [k, +v.toFixed(3)]))),
    ((performance.now() - t) / 1000).toFixed(0) + 's',
  );
}
process.exit(0);
