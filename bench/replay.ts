/**
 * Replay throughput, against a pass-through read of the same file in the same run (parse,
 * validate and Avro-encode every event: what replay does before the model sees anything) and
 * against the topology alone on the same driver (the events piped in batches, the score records
 * read back; no sorting, joining, baselines or metrics): what replay adds on top of the model.
 * Replay's time includes reading the file; the topology's alone does not.
 * Two workloads, each as JSONL and as an Avro event stream:
 * - requests: simulated users' structured requests (tool, domain, repo, error type; no free
 *   text), 20 candidates each, and their feedback — every event is scored or learned from;
 * - trajectories: synthetic chat sessions (scripts/make-fixtures.ts) through `agentrec import`:
 *   tool-call requests with a few candidates and conversation text, tool calls and results,
 *   user turns, rewards — most events only pass through the model.
 *
 *   npx tsx bench/replay.ts [--events 100000] [--set partitions=4]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import agentRecommender from '../topologies/agent-recommender.js';
import { chatTranscripts } from '../scripts/make-fixtures.js';
import type { EventFileFormat } from '../src/recommender/import/event-file-format.js';
import { fileSink } from '../src/recommender/import/file-sinks.js';
import { importChatTranscripts } from '../src/recommender/import/import-file.js';
import type { TrajectoryEvent } from '../src/recommender/records.js';
import { readReplayEvents } from '../src/recommender/replay/read-events.js';
import { replay } from '../src/recommender/replay/replay.js';
import { SimulatedUsers } from '../src/recommender/simulation/simulated-users.js';
import { TopologyTestDriver } from '../src/topology/test-driver.js';
import { settingsFrom } from '../src/cli/run-options.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' }, set: { type: 'string', multiple: true } } });
const count = Number(values.events);
const settings = settingsFrom(values.set ?? []);
// As `agentrec replay` runs the shipped topology: one partition unless told otherwise.
settings.partitions ??= '1';
const dir = mkdtempSync(join(tmpdir(), 'agentrec-bench-replay-'));

async function simulatedRequests(file: string, format: EventFileFormat): Promise<void> {
  const users = new SimulatedUsers({ users: 2000, actions: 300, candidates: 20, seed: 7 });
  const sink = fileSink(file, format);
  for (let written = 0; written < count;) {
    const chunk: TrajectoryEvent[] = [];
    for (let i = 0; i < 5000 && written < count; i++, written++) chunk.push({ ...users.next(), text: null, source: 'REAL' });
    await sink.write(chunk);
  }
  await sink.close();
}

async function chatTrajectories(file: string, format: EventFileFormat): Promise<void> {
  // About 19 events per session.
  const transcripts = join(dir, 'sessions.jsonl');
  writeFileSync(transcripts, chatTranscripts(Math.ceil(count / 19)));
  const sink = fileSink(file, format);
  await importChatTranscripts(transcripts, { userPath: 'metadata.user_id' }, sink);
  await sink.close();
}

function read(file: string, format: EventFileFormat) {
  return readReplayEvents(file, format, (e) => {
    throw e;
  });
}

/** The topology alone, fed as replay feeds it. */
async function topologyAlone(file: string, format: EventFileFormat): Promise<number> {
  const events = read(file, format);
  const started = performance.now();
  const driver = await TopologyTestDriver.start(agentRecommender({ transport: 'embedded', settings }), {
    stateBackend: 'memory',
    startTime: events[0].event.eventTime,
    // Replay's default pipeline batch, so both run the same batches.
    maxBatch: 50,
  });
  for (let start = 0; start < events.length; start += 10_000) {
    for (const { event, bytes } of events.slice(start, start + 10_000))
      driver.pipeInput(event.userId, bytes, { timestamp: event.eventTime });
    await driver.settle(600_000);
    driver.readOutput();
  }
  await driver.close();
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const rate = (events: number, seconds: number) => `${Math.round(events / seconds).toLocaleString('en')} ev/s`;
  console.log(`replay benchmark: ~${count.toLocaleString('en')} events per workload, settings ${JSON.stringify(settings)}`);
  const workloads = { requests: simulatedRequests, trajectories: chatTrajectories };
  for (const [workload, write] of Object.entries(workloads)) {
    for (const format of ['jsonl', 'avro'] as const) {
      const file = join(dir, `${workload}.${format}`);
      await write(file, format);
      let started = performance.now();
      const events = read(file, format).length;
      const readSeconds = (performance.now() - started) / 1000;
      // Alternated, best of two each: the first run in a process pays for JIT warm-up and heap growth.
      let replaySeconds = Infinity;
      let aloneSeconds = Infinity;
      let result: Awaited<ReturnType<typeof replay>> | undefined;
      for (let round = 0; round < 2; round++) {
        aloneSeconds = Math.min(aloneSeconds, await topologyAlone(file, format));
        started = performance.now();
        result = await replay({ topology: agentRecommender({ transport: 'embedded', settings }), events: read(file, format) });
        replaySeconds = Math.min(replaySeconds, (performance.now() - started) / 1000);
      }
      if (!result) throw new Error('no replay ran');
      const model = result.overall[result.model].chosen;
      console.log(
        `${workload.padEnd(12)} ${format.padEnd(5)} ${events.toLocaleString('en')} events: ` +
          `pass-through read ${rate(events, readSeconds)} (${readSeconds.toFixed(2)} s), replay ${rate(events, replaySeconds)} ` +
          `(${replaySeconds.toFixed(2)} s), replay / read ${(readSeconds / replaySeconds).toFixed(2)}, ` +
          `topology alone ${rate(events, aloneSeconds)} (${aloneSeconds.toFixed(2)} s); ` +
          `hit@1 model ${model?.hitAt1.toFixed(3)}, markov ${result.overall.markov.chosen?.hitAt1.toFixed(3)}`,
      );
    }
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
