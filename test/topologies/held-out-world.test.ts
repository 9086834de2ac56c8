import { describe, expect, it } from 'vitest';
import { agentLoopEvents, hitAt1AfterWarmup, sweepReplay } from '../../bench/learning-datasets.js';

describe("the defaults carry over to a world they were never chosen on (a coding agent's tool loops)", () => {
  it('beats every baseline, Markov by 1.2×, with 1 and 4 partitions', async () => {
    const events = await agentLoopEvents();
    const one = hitAt1AfterWarmup(await sweepReplay({ partitions: '1' }, events));
    const four = hitAt1AfterWarmup(await sweepReplay({ partitions: '4' }, events))['agent-recommender'];
    const model = one['agent-recommender'];
    console.log(
      `hit@1 on the tool loops: ${Object.entries(one)
        .map(([name, rate]) => `${name} ${rate.toFixed(3)}`)
        .join(', ')}; 4 partitions ${four.toFixed(3)}`,
    );
    const baselines = Object.entries(one).filter(([name]) => name !== 'agent-recommender');
    expect(baselines.map(([name]) => name)).toContain('markov');
    const best = Math.max(...baselines.map(([, rate]) => rate));
    expect(model).toBeGreaterThanOrEqual(best * 1.2);
    expect(four).toBeGreaterThanOrEqual(model * 0.97);
  }, 180_000);
});
