/**
 * Prototype of a per-(user, action) memory for the default model, to size its effect before it
 * is built into the model (bench/README.md, "Defaults that learn"): a scalar weight per exact
 * `ua=<user>|<action>` key added to each candidate's score and learned with AdaGrad from the
 * same dLoss/dScore as the rows. Held in memory, not in the row store: not crash-exact, a
 * measurement only. Same protocol as bench/sweep-defaults.ts.
 *
 *   npx tsx bench/experiments/user-action-memory.ts sim|sim-heldout|chat|chat-heldout <learningRate> ['<settings>']
 */
import { SIMULATED_SCENARIO } from '../../topologies/agent-recommender.js';
import { ModelTask } from '../../src/recommender/model/model-task.js';
import type { LookedUpEvent } from '../../src/recommender/types.js';
import { hitAt1AfterWarmup, simulatedEvents, sweepReplay, transcriptEvents } from '../learning-datasets.js';

const which = process.argv[2] ?? 'sim';
const rate = Number(process.argv[3] ?? 0.1);
const settings = JSON.parse(process.argv[4] ?? '{"partitions":"1"}') as Record<string, string>;

const weights = new Map<string, { w: number; acc: number }>();
const key = (e: LookedUpEvent, i: number) => `${e.request!.userId}|${e.request!.candidates[i]}`;
const score = ModelTask.prototype.score;
const learn = ModelTask.prototype.learn;
if (rate > 0) {
  ModelTask.prototype.score = function (this: ModelTask, e: LookedUpEvent, scores: Float32Array) {
    score.call(this, e, scores);
    for (let i = 0; i < e.candidates.length; i++) scores[i] += weights.get(key(e, i))?.w ?? 0;
  };
  ModelTask.prototype.learn = function (this: ModelTask, e: LookedUpEvent, dScores: Float32Array) {
    if (!learn.call(this, e, dScores)) return false;
    for (let i = 0; i < e.candidates.length; i++) {
      const g = dScores[i];
      if (g === 0) continue;
      const k = key(e, i);
      let entry = weights.get(k);
      if (!entry) weights.set(k, (entry = { w: 0, acc: 0.001 }));
      entry.acc += g * g;
      entry.w -= (rate * g) / Math.sqrt(entry.acc);
    }
    return true;
  };
}

async function main(): Promise<void> {
  const events =
    which === 'sim'
      ? simulatedEvents({ ...SIMULATED_SCENARIO, seed: 101 }, 20_000)
      : which === 'sim-heldout'
        ? simulatedEvents(SIMULATED_SCENARIO, 20_000)
        : await transcriptEvents(which === 'chat' ? 'train' : 'test');
  const hitAt1 = hitAt1AfterWarmup(await sweepReplay(settings, events));
  console.log(
    `${which} memory lr ${rate} ${JSON.stringify(settings)}  ${Object.entries(hitAt1)
      .map(([name, value]) => `${name} ${value.toFixed(3)}`)
      .join('  ')}  (${weights.size} memory weights)`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
