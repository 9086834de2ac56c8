/**
 * A digest of everything the agent-recommender emits for a fixed simulated stream (every score,
 * rank and user embedding, in order; the processing-time `scoredAt` and the model version left
 * out). Two commits that print the same digest learn and score bit-identically: the check for a
 * change meant only to make things faster. Run it in both trees, e.g. the older one checked out
 * with `git worktree add /tmp/old <commit>` and this file copied in.
 *
 *   npx tsx bench/output-digest.ts [--events 30000]
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import agentRecommender from '../topologies/agent-recommender.js';
import { avroSerde } from '../src/serde/avro-serde.js';
import type { ScoreRecord, TrajectoryEvent } from '../src/recommender/records.js';
import { SimulatedUsers } from '../src/recommender/simulation/simulated-users.js';
import { TopologyTestDriver } from '../src/topology/test-driver.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '30000' } } });
const events = Number(values.events);
const serde = avroSerde<TrajectoryEvent>('trajectory-event');
const driver = await TopologyTestDriver.start(agentRecommender(), {});
const users = new SimulatedUsers({ users: 800, actions: 120, candidates: 20, seed: 3 });
const digest = createHash('sha256');
let records = 0;
for (let sent = 0; sent < events;) {
  for (const end = Math.min(events, sent + 1000); sent < end; sent++) {
    const event = users.next();
    driver.pipeInput(event.userId, serde.serialize(event));
  }
  await driver.settle(60_000);
  for (const { value } of driver.readOutput<ScoreRecord>()) {
    const { scoredAt: _scoredAt, modelVersion: _modelVersion, ...scored } = value;
    digest.update(JSON.stringify(scored));
    records++;
  }
}
console.log(
  `${records.toLocaleString('en')} score records from ${events.toLocaleString('en')} events: ${digest.digest('hex').slice(0, 16)}`,
);
await driver.close();
process.exit(0);
