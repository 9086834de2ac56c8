/**
 * The recommender's per-event serde work in isolation, each against its baseline in the same run
 * (same simulated events, alternating rounds, µs per item from the fastest round):
 *
 *   - decoding a trajectory event: the full schema vs `skipOnRead` of the candidates' tool and
 *     text (what the agent-recommender decodes);
 *   - encoding a request snapshot: avsc's generic writer vs the field-by-field AvroBinaryWriter
 *     the topology uses (the bytes are checked equal first);
 *   - encoding a score record (what emit's sink writes per request): avsc through a scratch buffer,
 *     as the serde wrote it before, vs the hand-written body avroSerde now uses for
 *     score-record.v1 (bytes checked equal first);
 *   - validating a REQUEST (`validateTrajectoryEvent`): a map per request, the earlier duplicate
 *     check, vs fingerprinted pairs, on freshly decoded events (no string hashes cached);
 *   - copying an encoded record out of the scratch buffer: Buffer.from (Node's 8 KiB pool) vs
 *     CopySlab (64 KiB slabs).
 *
 *   npm run build && node dist/bench/serde.js [--events 40000] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { encodeRequestSnapshot, requestSnapshotType } from '../src/recommender/requests/request-snapshot-codec.js';
import type { RequestSnapshot } from '../src/recommender/types.js';
import { AvroScratch } from '../src/serde/avro-scratch.js';
import { avroSerde } from '../src/serde/avro-serde.js';
import { CopySlab } from '../src/serde/copy-slab.js';
import type { ScoreRecord, TrajectoryEvent } from '../src/recommender/records.js';
import { validateTrajectoryEvent } from '../src/recommender/validate-trajectory-event.js';
import { SimulatedUsers } from '../src/recommender/simulation/simulated-users.js';
import { scoreRecordSerde } from '../src/recommender/score-record-body.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const full = avroSerde<TrajectoryEvent>('trajectory-event');
const skipping = avroSerde<TrajectoryEvent>('trajectory-event', { skipOnRead: ['candidates.tool', 'candidates.text'] });
const users = new SimulatedUsers({ users: 5000, actions: 300, candidates: 20, seed: 7 });
const events = Array.from({ length: Number(values.events) }, () => users.next());
const bytes = events.map((event) => full.serialize(event));
const requests = events.filter((event) => event.kind === 'REQUEST');

/** Fastest of `rounds` timings of `run` over `items`, in µs per item (the machine is shared: the minimum is the steadiest). */
function fastest<T>(items: readonly T[], run: (item: T) => unknown, prepare?: () => readonly T[]): number {
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const input = prepare ? prepare() : items;
    const started = performance.now();
    for (const item of input) run(item);
    best = Math.min(best, ((performance.now() - started) * 1000) / input.length);
  }
  return best;
}

function report(what: string, baselineName: string, baseline: number, oursName: string, ours: number): void {
  console.log(
    `${what}\n  ${baselineName.padEnd(34)} ${baseline.toFixed(2)} µs\n  ${oursName.padEnd(34)} ${ours.toFixed(2)} µs\n  ratio ${(baseline / ours).toFixed(2)}×`,
  );
}

// Decoding: every event (requests and feedback), as the decode step sees them.
report(
  `decode a trajectory event (${bytes.length.toLocaleString('en')} events, ${(bytes.reduce((s, b) => s + b.length, 0) / bytes.length).toFixed(0)} bytes on average)`,
  'full schema',
  fastest(bytes, (b) => full.deserialize(b)),
  'skipOnRead candidates.tool/.text',
  fastest(bytes, (b) => skipping.deserialize(b)),
);

// Snapshots as the lookup builds them: the request's features (keys as encode interns them).
const snapshots: RequestSnapshot[] = requests.map((event) => ({
  requestId: event.requestId ?? event.eventId,
  userId: event.userId,
  eventTime: event.eventTime,
  features: [
    `tool=${event.tool}`,
    `domain=${event.domain}`,
    `repo=${event.repo}`,
    `tool×domain=${event.tool}×${event.domain}`,
    'hour=13',
    'dow=3',
    ...String(event.text)
      .split(' ')
      .map((word) => `text#${word}`),
  ].map((key) => ({ key, weight: 1 })),
  candidates: event.candidates.map((candidate) => candidate.actionId),
}));
const scratch = new AvroScratch(4096);
const avscSnapshot = (snapshot: RequestSnapshot): Buffer => {
  const encoded = scratch.encode(requestSnapshotType, { ...snapshot, dense: snapshot.dense ?? null }, 8);
  encoded.writeDoubleLE(snapshot.eventTime, 0);
  return Buffer.from(encoded);
};
for (const snapshot of snapshots) {
  if (!avscSnapshot(snapshot).equals(encodeRequestSnapshot(snapshot)))
    throw new Error(`snapshot ${snapshot.requestId}: the two encoders disagree`);
}
report(
  `encode a request snapshot (${snapshots.length.toLocaleString('en')} requests, ${snapshots[0].features.length}+ features, ${snapshots[0].candidates.length} candidates; bytes equal)`,
  'avsc (record built per snapshot)',
  fastest(snapshots, avscSnapshot),
  'AvroBinaryWriter',
  fastest(snapshots, encodeRequestSnapshot),
);

// Validation on freshly decoded requests, so no string carries a cached hash yet.
const requestBytes = requests.map((event) => full.serialize(event));
const decodedRequests = () => requestBytes.map((b) => skipping.deserialize(b));
const mapCheck = (event: TrajectoryEvent): void => {
  const firstIndex = new Map<string, number>();
  event.candidates.forEach((candidate, i) => {
    if (firstIndex.has(candidate.actionId)) throw new Error('duplicate');
    firstIndex.set(candidate.actionId, i);
  });
};
report(
  `duplicate candidates of a REQUEST (${requests.length.toLocaleString('en')} requests)`,
  'a map per request (the earlier check)',
  fastest([], mapCheck, decodedRequests),
  'validateTrajectoryEvent (all checks)',
  fastest([], validateTrajectoryEvent, decodedRequests),
);

// Score records as emit builds them: 20 ranked candidates and a 32-float embedding per request.
const scoreSerde = scoreRecordSerde();
const scoreRecords: ScoreRecord[] = requests.map((event, n) => ({
  requestId: event.requestId ?? event.eventId,
  userId: event.userId,
  eventTime: event.eventTime,
  modelVersion: `fm-d32/p${n % 4}/u${n}`,
  scoredAt: event.eventTime + 5,
  candidates: event.candidates.map((candidate, i) => ({ actionId: candidate.actionId, score: Math.fround(Math.sin(n + i)), rank: i + 1 })),
  userEmbedding: Array.from({ length: 32 }, (_, i) => Math.fround(Math.cos(n * i))),
}));
const scoreScratch = new AvroScratch(4096, scoreSerde.serialize(scoreRecords[0]).subarray(0, 10));
const avscScore = (record: ScoreRecord): Buffer => Buffer.from(scoreScratch.encode(scoreSerde.schema.type, record, 10));
for (const record of scoreRecords) {
  if (!avscScore(record).equals(scoreSerde.serialize(record)))
    throw new Error(`score record ${record.requestId}: the two encoders disagree`);
}
report(
  `encode a score record (${scoreRecords.length.toLocaleString('en')} records, 20 candidates, d=32; bytes equal)`,
  'avsc through a scratch buffer',
  fastest(scoreRecords, avscScore),
  'hand-written score-record.v1 body',
  fastest(scoreRecords, (record) => scoreSerde.serialize(record)),
);

// Copying an encoded record out of the writer's scratch buffer, as serialize and the snapshot
// codec do for every record: Node's pool (a new 8 KiB pool every ~10 records) vs a CopySlab.
const encodedScores = scoreRecords.map((record) => scoreSerde.serialize(record));
const slab = new CopySlab();
report(
  `copy an encoded score record out of a scratch buffer (${encodedScores.length.toLocaleString('en')} records, ${(encodedScores.reduce((s, b) => s + b.length, 0) / encodedScores.length).toFixed(0)} bytes on average)`,
  'Buffer.from (Node pool)',
  fastest(encodedScores, (encoded) => Buffer.from(encoded)),
  'CopySlab (64 KiB slabs)',
  fastest(encodedScores, (encoded) => slab.copy(encoded)),
);
