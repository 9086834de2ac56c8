/**
 * The datasets the learning sweep tunes on and the learning tests evaluate on, each as replay
 * events: simulated users (the npm start scenario under a chosen seed), and the transcript and
 * ratings fixtures split in halves by time — the first half to tune on, the second to evaluate
 * on, each replayed from a cold start.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSink } from '../src/recommender/import/file-sinks.js';
import { importChatTranscripts, importRatings } from '../src/recommender/import/import-file.js';
import type { TrajectoryEvent } from '../src/recommender/records.js';
import { readReplayEvents, type ReplayEvent } from '../src/recommender/replay/read-events.js';
import { replay, type ReplayResult } from '../src/recommender/replay/replay.js';
import { SimulatedUsers, type SimulatedUsersOptions } from '../src/recommender/simulation/simulated-users.js';
import { avroSerde } from '../src/serde/avro-serde.js';
import agentRecommender from '../topologies/agent-recommender.js';
import { agentLoopTranscripts, chatTranscripts } from '../scripts/make-fixtures.js';

const serde = avroSerde<TrajectoryEvent>('trajectory-event');
const FIXTURES = new URL('../test/fixtures/', import.meta.url);
/** Sessions in test/fixtures/chat-transcripts.jsonl (scripts/make-fixtures.ts writes them). */
const FIXTURE_SESSIONS = 260;

/** Replays events through the agent-recommender with `settings`, as `agentrec replay` does by default. */
export function sweepReplay(settings: Record<string, string>, events: ReplayEvent[]): Promise<ReplayResult> {
  return replay({ topology: agentRecommender({ transport: 'embedded', settings }), events });
}

/** Each predictor's hit@1 after warm-up: windows 3–10 of 10, weighted by the choices each judged. */
export function hitAt1AfterWarmup(result: ReplayResult): Record<string, number> {
  const sums: Record<string, [number, number]> = {};
  for (const window of result.windows.slice(2)) {
    for (const [name, metrics] of Object.entries(window.metrics)) {
      if (!metrics.chosen) continue;
      const sum = (sums[name] ??= [0, 0]);
      sum[0] += metrics.chosen.hitAt1 * metrics.chosen.n;
      sum[1] += metrics.chosen.n;
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([name, [hits, n]]) => [name, hits / n]));
}

export function simulatedEvents(scenario: SimulatedUsersOptions, count: number): ReplayEvent[] {
  const users = new SimulatedUsers(scenario);
  return Array.from({ length: count }, (_, i) => {
    const event = users.next();
    return { event, bytes: serde.serialize(event), line: i + 1 };
  });
}

/** Half of the chat transcript fixture (sessions in file order, which is time order), imported. */
export async function transcriptEvents(half: 'train' | 'test'): Promise<ReplayEvent[]> {
  const lines = readFileSync(new URL('chat-transcripts.jsonl', FIXTURES), 'utf8').split('\n').filter(Boolean);
  const cut = Math.floor(lines.length / 2);
  return imported('chat.jsonl', (half === 'train' ? lines.slice(0, cut) : lines.slice(cut)).join('\n') + '\n', (input, sink) =>
    importChatTranscripts(input, { userPath: 'metadata.user_id' }, sink),
  );
}

/**
 * `sessions` more sessions from the transcript fixture's generator, after the fixture's own 260
 * (same users and habits, never seen by the sweeps): a held-out set large enough that partition
 * counts are compared on more than a cold start.
 */
export async function moreTranscriptEvents(sessions: number): Promise<ReplayEvent[]> {
  const lines = chatTranscripts(FIXTURE_SESSIONS + sessions)
    .split('\n')
    .filter(Boolean)
    .slice(FIXTURE_SESSIONS);
  return imported('chat.jsonl', lines.join('\n') + '\n', (input, sink) =>
    importChatTranscripts(input, { userPath: 'metadata.user_id' }, sink),
  );
}

/**
 * A coding agent's tool loops (scripts/make-fixtures.ts, `agentLoopTranscripts`): a world the
 * defaults were never chosen on, to check that they carry over to other statistics.
 */
export async function agentLoopEvents(sessions = 400): Promise<ReplayEvent[]> {
  return imported('loops.jsonl', agentLoopTranscripts(sessions), (input, sink) =>
    importChatTranscripts(input, { userPath: 'user', sessionPath: 'session_id' }, sink),
  );
}

/** Half of the ratings fixture (rows in time order). */
export async function ratingEvents(half: 'train' | 'test'): Promise<ReplayEvent[]> {
  const [header, ...rows] = readFileSync(new URL('ratings.csv', FIXTURES), 'utf8').split('\n').filter(Boolean);
  const cut = Math.floor(rows.length / 2);
  return imported('ratings.csv', [header, ...(half === 'train' ? rows.slice(0, cut) : rows.slice(cut))].join('\n') + '\n', (input, sink) =>
    importRatings(input, {}, sink),
  );
}

async function imported(
  name: string,
  text: string,
  run: (input: string, sink: ReturnType<typeof fileSink>) => Promise<unknown>,
): Promise<ReplayEvent[]> {
  const dir = mkdtempSync(join(tmpdir(), 'agentrec-learning-'));
  try {
    const input = join(dir, name);
    const output = join(dir, 'events.jsonl');
    writeFileSync(input, text);
    const sink = fileSink(output, 'jsonl');
    await run(input, sink);
    await sink.close();
    return readReplayEvents(output, 'jsonl', (error) => {
      throw error;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
