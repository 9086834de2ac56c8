/**
 * The learning-defaults sweep: each configuration (topology settings as --set would give them)
 * is replayed prequentially over a training dataset — the simulator under a training seed (101,
 * not npm start's 7) or the first half of the transcript fixture — and its progressive hit@1
 * after warm-up (the first two of ten event-time windows left out) is printed beside every
 * baseline's, replayed with `agentrec replay`'s defaults, then the model's accept/reject AUC and
 * log loss over the whole replay, and the MAE of ratings where the stream has any (the model's
 * and the rating baselines'). Results and the chosen values: bench/README.md, "Defaults that learn".
 *
 *   npx tsx bench/sweep-defaults.ts sim|chat '[{"partitions":"1"},{"partitions":"4","syncEveryEvents":"5"}]'
 *   SWEEP_SEED=7 npx tsx bench/sweep-defaults.ts sim '[{"partitions":"1"}]'   (the simulator on a held-out seed)
 *   SWEEP_HALF=test …chat…   (the transcripts' held-out second half)   SWEEP_EVENTS=80000 …sim…   (a longer simulation)
 *   npx tsx bench/sweep-defaults.ts loop '[{}]'   (a coding agent's tool loops: a world never swept on, to check the defaults carry over)
 *   DROP=RATING,REJECT …   (leaves those feedback signals out of the stream, to see what each costs or brings)
 */
import { SIMULATED_SCENARIO } from '../topologies/agent-recommender.js';
import { agentLoopEvents, hitAt1AfterWarmup, simulatedEvents, sweepReplay, transcriptEvents } from './learning-datasets.js';

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'chat';
  const grid = JSON.parse(process.argv[3] ?? '[{"partitions":"1"}]') as Record<string, string>[];
  // SWEEP_SEED=7 replays npm start's own seed: held out from the choice of defaults.
  const seed = Number(process.env.SWEEP_SEED ?? 101);
  const simulated = () => simulatedEvents({ ...SIMULATED_SCENARIO, seed }, Number(process.env.SWEEP_EVENTS ?? 20_000));
  const all =
    which === 'sim'
      ? simulated()
      : which === 'loop'
        ? await agentLoopEvents()
        : await transcriptEvents(process.env.SWEEP_HALF === 'test' ? 'test' : 'train');
  const dropped = new Set((process.env.DROP ?? '').split(',').filter(Boolean));
  const events = all.filter(({ event }) => event.kind !== 'FEEDBACK' || !dropped.has(event.feedback!.signal));
  for (const settings of grid) {
    const result = await sweepReplay(settings, events);
    const hitAt1 = hitAt1AfterWarmup(result);
    const cells = Object.entries(hitAt1).map(([name, rate]) => `${name} ${rate.toFixed(3)}`);
    // Accept/reject, over the whole replay: the model's AUC and log loss (the acceptance calibration's sweep).
    const binary = result.overall[result.model].binary;
    if (binary) cells.push(`accept/reject AUC ${binary.auc?.toFixed(3) ?? '–'} log loss ${binary.logLoss.toFixed(3)}`);
    // Ratings among the feedback (the simulator's tenth), whole replay: MAE of the model and the rating baselines.
    const rated = Object.entries(result.overall).filter(([, metrics]) => metrics.rating);
    if (rated.length) cells.push(`ratings MAE ${rated.map(([name, metrics]) => `${name} ${metrics.rating!.mae.toFixed(3)}`).join(' ')}`);
    console.log(`${which} ${JSON.stringify(settings)}  ${cells.join('  ')}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
