import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayCommand } from '../../src/cli/replay-command.js';
import { decode } from '../../src/operators/decode.js';
import { fileSink } from '../../src/recommender/import/file-sinks.js';
import { importChatTranscripts, importRatings } from '../../src/recommender/import/import-file.js';
import type { Candidate, Feedback, ScoreRecord, TrajectoryEvent } from '../../src/recommender/records.js';
import { readReplayEvents } from '../../src/recommender/replay/read-events.js';
import { feedSize, replay } from '../../src/recommender/replay/replay.js';
import type { ReplayReport } from '../../src/recommender/replay/report.js';
import { scoreRecordSerde } from '../../src/recommender/score-record-body.js';
import { avroSerde } from '../../src/serde/avro-serde.js';
import { recordStep } from '../../src/topology/step.js';
import { topology } from '../../src/topology/topology.js';

const dir = mkdtempSync(join(tmpdir(), 'agentrec-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A stand-in model with known scores: each candidate scores the number in its `text`, so every
 * metric of the replay can be computed by hand.
 */
function fixedScores() {
  return topology('fixed')
    .from('in', { topic: 'events', partitions: 2 })
    .step(decode('decode', { serde: avroSerde<TrajectoryEvent>('trajectory-event') }))
    .step(
      recordStep<TrajectoryEvent, ScoreRecord>('score', 'map', () => (e) => {
        if (e.kind !== 'REQUEST') return undefined;
        const candidates = e.candidates.map((c) => ({ actionId: c.actionId, score: Number(c.text) }));
        const ranked = [...candidates].sort((a, b) => b.score - a.score).map((c, i) => ({ ...c, rank: i + 1 }));
        return {
          requestId: e.requestId ?? e.eventId,
          userId: e.userId,
          eventTime: e.eventTime,
          modelVersion: 'fixed',
          scoredAt: 0,
          candidates: ranked,
          userEmbedding: [],
        };
      }),
    )
    .to('out', { topic: 'scores', serde: scoreRecordSerde() });
}

const T = Date.UTC(2026, 3, 1);
const base = {
  sessionId: 's',
  tool: null,
  domain: null,
  repo: null,
  errorType: null,
  agent: null,
  text: null,
  code: null,
  source: 'REAL' as const,
  attributes: {},
};
const req = (id: string, time: number, scored: Record<string, number>, user = 'u1'): TrajectoryEvent => ({
  ...base,
  eventId: id,
  kind: 'REQUEST',
  userId: user,
  eventTime: T + time,
  requestId: id,
  candidates: Object.entries(scored).map(([actionId, score]): Candidate => ({ actionId, tool: null, text: String(score) })),
  feedback: null,
});
const fb = (id: string, time: number, feedback: Feedback, user = 'u1', source: 'REAL' | 'SIMULATED' = 'REAL'): TrajectoryEvent => ({
  ...base,
  eventId: `${id}/fb/${feedback.signal}`,
  kind: 'FEEDBACK',
  userId: user,
  eventTime: T + time,
  requestId: id,
  candidates: [],
  feedback,
  source,
});

/** Hand-computed: see the expectations. The file order is not the time order (feedback of r1 is written first). */
const EVENTS: TrajectoryEvent[] = [
  fb('r1', 150, { signal: 'CHOSEN', value: 1, actionId: 'b' }),
  req('r1', 100, { a: 0.9, b: 0.5, c: 0.1 }),
  req('r2', 200, { a: 0.2, b: 0.8 }, 'u2'),
  fb('r2', 250, { signal: 'CHOSEN', value: 1, actionId: 'b' }, 'u2', 'SIMULATED'),
  req('r3', 300, { x: 1.5 }),
  fb('r3', 310, { signal: 'RATING', value: 5, actionId: 'x' }),
  req('r4', 400, { y: -3 }),
  fb('r4', 410, { signal: 'RATING', value: 3, actionId: 'y' }),
  req('r5', 500, { z: 0 }),
  fb('r5', 510, { signal: 'RATING', value: 2, actionId: 'z' }),
  req('r6', 600, { p: 2, q: -1 }),
  fb('r6', 610, { signal: 'ACCEPT', value: 1, actionId: 'p' }),
  fb('r6', 620, { signal: 'REJECT', value: 0, actionId: 'q' }),
  fb('nope', 700, { signal: 'CHOSEN', value: 1, actionId: 'a' }),
];

describe('agentrec replay', () => {
  it('feeds a twentieth of what it replayed so far, within [maxBatch, batchEvents]', () => {
    expect(feedSize(0, 10_000, 50)).toBe(50);
    expect(feedSize(2_000, 10_000, 50)).toBe(100);
    expect(feedSize(1_000_000, 10_000, 50)).toBe(10_000);
    expect(feedSize(5_000, 3, 50)).toBe(3);
  });

  it('computes the metrics of a hand-computed case exactly, whatever the batching', async () => {
    const file = join(dir, 'tiny.jsonl');
    const sink = fileSink(file, 'jsonl');
    await sink.write(EVENTS);
    await sink.close();
    for (const batchEvents of [1, 3, 1000]) {
      const result = await replay({
        topology: fixedScores(),
        events: readReplayEvents(file, 'jsonl', (e) => expect.fail(e.message)),
        batchEvents,
        windowMs: 300,
      });
      const model = result.overall.fixed;
      // r1: b ranks 2 of 3; r2: b ranks 1.
      expect(model.chosen).toEqual({ n: 2, hitAt1: 0.5, hitAt3: 1, mrr: (1 / 2 + 1) / 2, ndcgAt10: (1 / Math.log2(3) + 1) / 2 });
      // Ratings 5, 3, 2: range [2, 5]. Predictions 1.5 + 3 = 4.5, clip(−3 + 3) = 2, 0 + 3 = 3 → errors 0.5, 1, 1.
      expect(model.rating!.n).toBe(3);
      expect(model.rating!.mae).toBeCloseTo(2.5 / 3, 12);
      expect(model.rating!.rmse).toBeCloseTo(Math.sqrt(2.25 / 3), 12);
      // ACCEPT p at σ(2), REJECT q at σ(−1).
      expect(model.binary!.auc).toBe(1);
      expect(model.binary!.logLoss).toBeCloseTo(-(Math.log(1 / (1 + Math.exp(-2))) + Math.log(1 - 1 / (1 + Math.exp(1)))) / 2, 12);
      expect(result.feedback).toEqual({ evaluated: 7, unknownRequest: 1, expiredRequest: 0, noScoreRecord: 0, actionNotCandidate: 0 });
      expect(result.ratingRange).toEqual({ min: 2, max: 5 });
      expect(result.bySource.SIMULATED.fixed.chosen).toMatchObject({ n: 1, hitAt1: 1 });
      expect(result.bySource.REAL.fixed.chosen).toMatchObject({ n: 1, hitAt1: 0 });
      // Windows of 300 ms from the first event (T + 100): r1, r2 feedback in the first; ratings r3–r5 in the second (T + 400 … 700).
      expect(result.windows.map((w) => [w.start - T, w.metrics.fixed.chosen?.n ?? 0, w.metrics.fixed.rating?.n ?? 0])).toEqual([
        [100, 2, 1],
        [400, 0, 2],
      ]);
      // Baselines ran over the same events: the running mean predicted 3 (nothing seen), then 5, then 4.
      expect(result.overall['running-mean'].rating!.mae).toBeCloseTo((2 + 2 + 2) / 3, 12);
    }
  });

  it('drops requests past their TTL and counts their late feedback apart', async () => {
    const events = EVENTS.map((event, i) => ({
      event,
      bytes: avroSerde<TrajectoryEvent>('trajectory-event').serialize(event),
      line: i + 1,
    }));
    const result = await replay({ topology: fixedScores(), events, batchEvents: 1, requestTtlMs: 5 });
    // r6's REJECT comes 20 ms after r6, after a batch (its ACCEPT at +10 ms) that dropped it.
    expect(result.feedback).toEqual({ evaluated: 6, unknownRequest: 1, expiredRequest: 1, noScoreRecord: 0, actionNotCandidate: 0 });
  });

  it('replays the chat-transcript fixture end to end: report JSON, learning-curve SVG, model vs baselines', async () => {
    const events = join(dir, 'chats.avro');
    const sink = fileSink(events, 'avro');
    const imported = await importChatTranscripts('test/fixtures/chat-transcripts.jsonl', { userPath: 'metadata.user_id' }, sink);
    await sink.close();
    expect(imported.badLines).toBe(0);
    const report = join(dir, 'chats.json');
    const curve = join(dir, 'chats.svg');
    expect(await replayCommand([events, '--report', report, '--curve', curve, '--no-progress', '--window', '1d'])).toBe(0);
    const r = JSON.parse(readFileSync(report, 'utf8')) as ReplayReport;
    expect(r.events).toBe(imported.events);
    expect(r.predictors).toEqual(['agent-recommender', 'global-popularity', 'user-popularity', 'markov', 'running-mean', 'user-item-bias']);
    expect(r.feedback.evaluated).toBe(imported.stats.toolCalls + imported.stats.rewards);
    for (const name of ['agent-recommender', 'global-popularity', 'user-popularity', 'markov']) {
      expect(r.overall[name].chosen!.n).toBe(imported.stats.toolCalls);
      expect(r.overall[name].chosen!.hitAt1).toBeGreaterThan(0);
    }
    expect(r.overall['agent-recommender'].binary!.n).toBe(imported.stats.rewards);
    // The shipped topology replays as one partition unless told otherwise, and then learns past the chain.
    expect(r.settings.partitions).toBe('1');
    expect(r.overall['agent-recommender'].chosen!.hitAt1).toBeGreaterThan(r.overall.markov.chosen!.hitAt1);
    expect(r.windows.length).toBeGreaterThan(3);
    expect(readFileSync(curve, 'utf8')).toMatch(/^<svg[\s\S]*Prequential hit@1[\s\S]*agent-recommender[\s\S]*markov[\s\S]*<\/svg>$/);
  });

  it('replays the ratings fixture: MAE and RMSE on the rating scale against the rating baselines', async () => {
    const events = join(dir, 'ratings.jsonl');
    const sink = fileSink(events, 'jsonl');
    await importRatings('test/fixtures/ratings.csv', {}, sink);
    await sink.close();
    const report = join(dir, 'ratings.json');
    expect(await replayCommand([events, '--report', report, '--curve', join(dir, 'ratings.svg'), '--no-progress'])).toBe(0);
    const r = JSON.parse(readFileSync(report, 'utf8')) as ReplayReport;
    expect(r.ratingRange).toEqual({ min: 1, max: 5 });
    for (const name of ['agent-recommender', 'running-mean', 'user-item-bias']) {
      expect(r.overall[name].rating!.n).toBe(4000);
      expect(r.overall[name].rating!.mae).toBeLessThan(2);
    }
    expect(readFileSync(join(dir, 'ratings.svg'), 'utf8')).toContain('Prequential mae');
    // One partition by default: the rating rows learn from every rating, and beat the bias baseline.
    expect(r.overall['agent-recommender'].rating!.mae).toBeLessThan(r.overall['user-item-bias'].rating!.mae);
  });
});
