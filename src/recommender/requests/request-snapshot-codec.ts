import avro from 'avsc';
import { StateError } from '../../errors.js';
import { AvroBinaryWriter } from '../../serde/avro-binary-writer.js';
import type { RequestSnapshot } from '../types.js';

/**
 * Stored request snapshots in Avro binary (internal state, not a published schema): smaller
 * and faster to write and read than JSON, which matters because a snapshot is written for
 * every scored request. Exported for the tests that hold the hand-written encoder to it.
 */
export const requestSnapshotType = avro.Type.forSchema(
  {
    type: 'record',
    name: 'RequestSnapshot',
    namespace: 'dev.agentrec.state',
    fields: [
      { name: 'requestId', type: 'string' },
      { name: 'userId', type: 'string' },
      { name: 'eventTime', type: 'long' },
      {
        name: 'features',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'Feature',
            fields: [
              { name: 'key', type: 'string' },
              { name: 'weight', type: 'double' },
            ],
          },
        },
      },
      { name: 'candidates', type: { type: 'array', items: 'string' } },
      { name: 'dense', type: ['null', { type: 'array', items: 'float' }], default: null },
    ],
  },
  { wrapUnions: false },
);

/**
 * Candidate tools follow the record as one more Avro array of strings, written only when the
 * snapshot has them: snapshots stored before they existed end after `dense` and decode with none,
 * and snapshots without tools keep exactly `requestSnapshotType`'s bytes.
 */
const candidateToolsType = avro.Type.forSchema({ type: 'array', items: 'string' });

/** Shared by every task: encoding is synchronous, so two encodes never interleave on it. */
const writer = new AvroBinaryWriter(4096);

/**
 * Written field by field in `requestSnapshotType`'s layout (the same bytes avsc would write,
 * checked in the tests): one is written per scored request, so avsc's generic writer is too
 * slow here (see bench/README.md, "Fewer strings, maps and allocations per event").
 */
export function encodeRequestSnapshot(snapshot: RequestSnapshot): Buffer {
  writer.reset(0).string(snapshot.requestId).string(snapshot.userId).long(snapshot.eventTime);
  const { features, candidates, dense } = snapshot;
  writer.arrayStart(features.length);
  for (let i = 0; i < features.length; i++) writer.string(features[i].key).double(features[i].weight);
  writer.arrayEnd().arrayStart(candidates.length);
  for (let i = 0; i < candidates.length; i++) writer.string(candidates[i]);
  writer.arrayEnd();
  // The union ['null', array of float]: branch 0, or branch 1 and the array.
  if (dense === undefined) writer.long(0);
  else {
    writer.long(1).arrayStart(dense.length);
    for (let i = 0; i < dense.length; i++) writer.float(dense[i]);
    writer.arrayEnd();
  }
  const tools = snapshot.candidateTools;
  if (tools !== undefined) {
    writer.arrayStart(tools.length);
    for (let i = 0; i < tools.length; i++) writer.string(tools[i]);
    writer.arrayEnd();
  }
  return writer.copy();
}

export function decodeRequestSnapshot(bytes: Buffer): RequestSnapshot {
  const read: { value: RequestSnapshot & { dense: number[] | null }; offset: number } = requestSnapshotType.decode(bytes, 0);
  const { value, offset } = read;
  if (offset < 0) throw new StateError('STATE_CORRUPT', `a stored request snapshot of ${bytes.length} bytes is truncated`);
  const decoded: RequestSnapshot = value.dense === null ? { ...value, dense: undefined } : value;
  if (offset < bytes.length) {
    const tools: { value: string[]; offset: number } = candidateToolsType.decode(bytes, offset);
    if (tools.offset !== bytes.length)
      throw new StateError('STATE_CORRUPT', `a stored request snapshot of ${bytes.length} bytes has trailing bytes`);
    decoded.candidateTools = tools.value;
  }
  return decoded;
}
