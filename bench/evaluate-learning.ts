/**
 * Does the recommender learn? Simulated users with hidden tastes send requests and delayed
 * feedback through the agent-recommender topology (embedded log, in-process driver). Metric:
 * progressive hit@1 — for each CHOSEN feedback, was the chosen action ranked first in the score
 * record emitted for its request, before the model learned from that feedback. Baselines in the
 * same run: random ranking (1 / candidates) and a popularity ranker learning from the same
 * stream. Writes bench/results/learning-curve.svg.
 *
 *   npx tsx bench/evaluate-learning.ts [--events 60000] [--window 2000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import agentRecommender from '../topologies/agent-recommender.js';
import { svgLineChart, type Series } from '../src/evaluation/svg-line-chart.js';
import { avroSerde } from '../src/serde/avro-serde.js';
import type { ScoreRecord, TrajectoryEvent } from '../src/recommender/records.js';
import { SimulatedUsers } from '../src/recommender/simulation/simulated-users.js';
import { TopologyTestDriver } from '../src/topology/test-driver.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '60000' }, window: { type: 'string', default: '2000' } } });
const events = Number(values.events);
const window = Number(values.window);
const world = { users: 300, actions: 100, candidates: 20, seed: 11 };
const serde = avroSerde<TrajectoryEvent>('trajectory-event');

interface Curve {
  points: [number, number][];
  overall: number;
  last: number;
}

function curve(hits: number[]): Curve {
  const points: [number, number][] = [];
  for (let end = window; end <= hits.length; end += window) {
    const slice = hits.slice(end - window, end);
    points.push([end, slice.reduce((a, b) => a + b, 0) / slice.length]);
  }
  return { points, overall: hits.reduce((a, b) => a + b, 0) / hits.length, last: points.at(-1)?.[1] ?? 0 };
}

async function evaluate(interaction: 'fm' | 'dcn'): Promise<{ model: Curve; popularity: Curve }> {
  const driver = await TopologyTestDriver.start(agentRecommender({ transport: 'embedded', settings: { interaction, partitions: '2' } }), {
    stateBackend: 'memory',
  });
  const users = new SimulatedUsers(world);
  const topRanked = new Map<string, string>();
  const popularTop = new Map<string, string>();
  const chosenCount = new Map<string, number>();
  const modelHits: number[] = [];
  const popularityHits: number[] = [];
  const pendingChosen: { requestId: string; actionId: string }[] = [];
  const chunk = 500;
  for (let sent = 0; sent < events; sent += chunk) {
    for (let i = 0; i < chunk; i++) {
      const event = users.next();
      if (event.kind === 'REQUEST') {
        const ranked = [...event.candidates].sort((a, b) => (chosenCount.get(b.actionId) ?? 0) - (chosenCount.get(a.actionId) ?? 0));
        popularTop.set(event.requestId!, ranked[0].actionId);
      } else if (event.feedback?.signal === 'CHOSEN' && event.feedback.actionId) {
        pendingChosen.push({ requestId: event.requestId!, actionId: event.feedback.actionId });
        chosenCount.set(event.feedback.actionId, (chosenCount.get(event.feedback.actionId) ?? 0) + 1);
      }
      driver.pipeInput(event.userId, serde.serialize(event));
    }
    await driver.settle(60_000);
    for (const out of driver.readOutput<ScoreRecord>()) topRanked.set(out.value.requestId, out.value.candidates[0].actionId);
    for (const { requestId, actionId } of pendingChosen.splice(0)) {
      modelHits.push(topRanked.get(requestId) === actionId ? 1 : 0);
      popularityHits.push(popularTop.get(requestId) === actionId ? 1 : 0);
    }
    if (sent % 10_000 === 0)
      process.stderr.write(`  ${interaction}: ${sent.toLocaleString('en')} / ${events.toLocaleString('en')} events\n`);
  }
  await driver.close();
  return { model: curve(modelHits), popularity: curve(popularityHits) };
}

async function main(): Promise<void> {
  console.log(
    `learning evaluation: ${events.toLocaleString('en')} events, ${world.users} users, ${world.actions} actions, ${world.candidates} candidates per request`,
  );
  const fm = await evaluate('fm');
  const dcn = await evaluate('dcn');
  const random = 1 / world.candidates;
  const rows = [
    ['random ranking (baseline)', random, random],
    ['popularity (baseline)', fm.popularity.overall, fm.popularity.last],
    ['agentrec FM d=32', fm.model.overall, fm.model.last],
    ['agentrec DCN-v2', dcn.model.overall, dcn.model.last],
  ] as const;
  console.log('progressive hit@1            overall   last window');
  for (const [name, overall, last] of rows) console.log(`${name.padEnd(28)} ${overall.toFixed(3)}     ${last.toFixed(3)}`);
  console.log(
    `ratio FM / popularity (last window): ${(fm.model.last / fm.popularity.last).toFixed(2)}; FM / random: ${(fm.model.last / random).toFixed(1)}`,
  );
  const xs = fm.model.points.map((p) => p[0]);
  const series: Series[] = [
    { name: 'agentrec FM', points: fm.model.points },
    { name: 'agentrec DCN-v2', points: dcn.model.points },
    { name: 'popularity', points: fm.popularity.points, dashed: true },
    { name: 'random', points: xs.map((x) => [x, random] as [number, number]), dashed: true },
  ];
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/learning-curve.svg',
    svgLineChart({
      title: 'Progressive hit@1 on simulated users',
      xLabel: 'CHOSEN feedback events',
      yLabel: `hit@1 (window of ${window})`,
      series,
      yMin: 0,
    }),
  );
  console.log('wrote bench/results/learning-curve.svg');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
