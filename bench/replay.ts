/**
 * Replay throughput: `agentrec replay` over a file of structured trajectory events (simulated
 * users; tool, domain, repo and error type, no free text), against a pass-through read of the
 * same file (parse, validate and Avro-encode every event: what replay does before the model) in
 * the same run. Both file formats: JSONL and the Avro event stream.
 *
 *   npx tsx bench/replay.ts [--events 100000] [--candidates 20] [--set partitions=1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import agentRecommender from '../topologies/agent-recommender.js';
import { fileSink } from '../src/recommender/import/file-sinks.js';
import type { EventFileFormat } from '../src/recommender/import/event-file-format.js';
import type { TrajectoryEvent } from '../src/recommender/records.js';
import { readReplayEvents } from '../src/recommender/replay/read-events.js';
import { replay } from '../src/recommender/replay/replay.js';
import { SimulatedUsers } from '../src/recommender/simulation/simulated-users.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    candidates: { type: 'string', default: '20' },
    set: { type: 'string', multiple: true },
  },
});
const count = Number(values.events);
const settings = Object.fromEntries((values.set ?? []).map((kv) => [kv.split('=')[0], kv.split('=').slice(1).join('=')]));
const dir = mkdtempSync(join(tmpdir(), 'agentrec-bench-replay-'));

async function writeEvents(file: string, format: EventFileFormat): Promise<void> {
  const users = new SimulatedUsers({ users: 2000, actions: 300, candidates: Number(values.candidates), seed: 7 });
  const sink = fileSink(file, format);
  for (let written = 0; written < count;) {
    const chunk: TrajectoryEvent[] = [];
    for (let i = 0; i < 5000 && written < count; i++, written++) chunk.push({ ...users.next(), text: null, source: 'REAL' });
    await sink.write(chunk);
  }
  await sink.close();
}

function passThrough(file: string, format: EventFileFormat): { seconds: number; events: number } {
  const started = performance.now();
  const events = readReplayEvents(file, format, (e) => {
    throw e;
  });
  return { seconds: (performance.now() - started) / 1000, events: events.length };
}

async function replayed(file: string, format: EventFileFormat) {
  const started = performance.now();
  const events = readReplayEvents(file, format, (e) => {
    throw e;
  });
  const result = await replay({ topology: agentRecommender({ transport: 'embedded', settings }), events });
  return { seconds: (performance.now() - started) / 1000, result };
}

async function main(): Promise<void> {
  const rate = (events: number, seconds: number) => `${Math.round(events / seconds).toLocaleString('en')} events/s`;
  console.log(
    `replay benchmark: ${count.toLocaleString('en')} structured events, ${values.candidates} candidates per request, ` +
      `settings ${JSON.stringify(settings)}`,
  );
  for (const format of ['jsonl', 'avro'] as const) {
    const file = join(dir, `events.${format}`);
    await writeEvents(file, format);
    const read = passThrough(file, format);
    const run = await replayed(file, format);
    const m = run.result.overall[run.result.model];
    console.log(
      `${format.padEnd(5)}  pass-through read ${rate(read.events, read.seconds)} (${read.seconds.toFixed(2)} s)   ` +
        `replay ${rate(run.result.events, run.seconds)} (${run.seconds.toFixed(2)} s)   ` +
        `ratio ${(read.seconds / run.seconds).toFixed(2)}   model hit@1 ${m.chosen?.hitAt1.toFixed(3)}, ` +
        `popularity ${run.result.overall['global-popularity'].chosen?.hitAt1.toFixed(3)}`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
