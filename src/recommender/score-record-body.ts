import { avroSerde, type AvroSerde, type AvroSerdeOptions } from '../serde/avro-serde.js';
import type { AvroBinaryWriter } from '../serde/avro-binary-writer.js';
import type { ScoreRecord } from './records.js';

/**
 * CRC-64-AVRO fingerprint of schemas/score-record.v1.avsc, the schema writeScoreRecordV1 writes:
 * avroSerde uses the writer only for a schema with exactly this fingerprint, so an edited or new
 * version falls back to avsc instead of being written wrongly (a test pins the value).
 */
export const SCORE_RECORD_V1_FINGERPRINT = 0x9a789da75cbf69d2n;

/**
 * The body of score-record.v1.avsc written field by field: one is written per scored request,
 * and avsc's generic writer pays a Buffer.byteLength per string and a type dispatch per
 * candidate (see bench/README.md, "Fewer strings, maps and allocations per event"). Bytes
 * identical to avsc's (tests compare them); throws on a value avsc would refuse, so the serde
 * can report it through avsc's validation.
 */
export function writeScoreRecordV1(writer: AvroBinaryWriter, record: ScoreRecord): void {
  writer.string(record.requestId).string(record.userId).long(record.eventTime).string(record.modelVersion).long(record.scoredAt);
  const { candidates, userEmbedding } = record;
  writer.arrayStart(candidates.length);
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i];
    writer.string(candidate.actionId).double(candidate.score).int(candidate.rank);
  }
  writer.arrayEnd().arrayStart(userEmbedding.length);
  for (let i = 0; i < userEmbedding.length; i++) writer.float(userEmbedding[i]);
  writer.arrayEnd();
}

/** The score-record serde the recommender emits with: avsc's, with writeScoreRecordV1 for v1. */
export function scoreRecordSerde(options: Omit<AvroSerdeOptions<ScoreRecord>, 'handWrittenBody'> = {}): AvroSerde<ScoreRecord> {
  return avroSerde<ScoreRecord>('score-record', {
    ...options,
    handWrittenBody: { fingerprint: SCORE_RECORD_V1_FINGERPRINT, write: writeScoreRecordV1 },
  });
}
