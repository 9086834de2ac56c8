/**
 * The ratings sweep: each configuration (topology settings as --set would give them) is replayed
 * prequentially over a half of test/fixtures/ratings.csv split by time — `train` to tune on,
 * `test` held out — or the whole file, and the model's MAE and RMSE are printed beside the
 * running mean's and the user + item bias baseline's, replayed as `agentrec replay` does. Results and the chosen values: bench/README.md, "Ratings".
 *
 *   npx tsx bench/sweep-ratings.ts train|test|full '[{"partitions":"1"},{"partitions":"4"}]'
 */
import { ratingEvents, sweepReplay } from './learning-datasets.js';

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'train';
  if (which !== 'train' && which !== 'test' && which !== 'full') throw new Error(`dataset must be train, test or full, got '${which}'`);
  const grid = JSON.parse(process.argv[3] ?? '[{"partitions":"1"},{"partitions":"4"}]') as Record<string, string>[];
  const events = which === 'full' ? [...(await ratingEvents('train')), ...(await ratingEvents('test'))] : await ratingEvents(which);
  for (const settings of grid) {
    const result = await sweepReplay(settings, events);
    const cells = Object.entries(result.overall)
      .filter(([, metrics]) => metrics.rating)
      .map(([name, metrics]) => `${name} ${metrics.rating!.mae.toFixed(3)}/${metrics.rating!.rmse.toFixed(3)}`);
    console.log(`${which} ${JSON.stringify(settings)}  MAE/RMSE  ${cells.join('  ')}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
