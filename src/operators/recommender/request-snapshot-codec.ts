import avro from 'avsc';
import { AvroScratch } from '../../serde/avro-scratch.js';
import type { RequestSnapshot } from './types.js';

/**
 * Stored request snapshots in Avro binary (internal state, not a published schema): about 3×
 * smaller and several times faster to write and read than JSON, and snapshots are written for
 * every scored request.
 */
const snapshotType = avro.Type.forSchema(
  {
    type: 'record',
    name: 'RequestSnapshot',
    namespace: 'dev.agentrec.state',
    fields: [
      { name: 'requestId', type: 'string' },
      { name: 'userId', type: 'string' },
      { name: 'eventTime', type: 'long' },
      { name: 'features', type: { type: 'array', items: { type: 'record', name: 'Feature', fields: [{ name: 'key', type: 'string' }, { name: 'weight', type: 'double' }] } } },
      { name: 'candidates', type: { type: 'array', items: 'string' } },
      { name: 'dense', type: ['null', { type: 'array', items: 'float' }], default: null },
    ],
  },
  { wrapUnions: false },
);

/**
 * Layout: the request's event time (float64 LE) followed by the Avro body. The prefix lets the
 * TTL purge, which scans every stored request, read one number instead of decoding each record.
 */
const TIME_BYTES = 8;

/** Shared by every task: encoding is synchronous, so two encodes never interleave on it. */
const scratch = new AvroScratch(4096);

export function encodeRequestSnapshot(snapshot: RequestSnapshot): Buffer {
  const record = {
    requestId: snapshot.requestId,
    userId: snapshot.userId,
    eventTime: snapshot.eventTime,
    features: snapshot.features,
    candidates: snapshot.candidates,
    dense: snapshot.dense ?? null,
  };
  const encoded = scratch.encode(snapshotType, record, TIME_BYTES);
  encoded.writeDoubleLE(snapshot.eventTime, 0);
  return Buffer.from(encoded);
}

export function decodeRequestSnapshot(bytes: Buffer): RequestSnapshot {
  const decoded = snapshotType.fromBuffer(bytes.subarray(TIME_BYTES)) as RequestSnapshot & { dense: number[] | null };
  return decoded.dense === null ? { ...decoded, dense: undefined } : decoded;
}

/** The stored request's event time, without decoding the rest. */
export function requestSnapshotTime(bytes: Buffer): number {
  return bytes.readDoubleLE(0);
}
