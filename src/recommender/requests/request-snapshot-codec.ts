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
 * Optional tails follow the record: candidate tools, one more Avro array of strings, then the
 * candidates' history buckets as Avro bytes. Written only when the snapshot has either (an empty
 * tools array stands for none when only history is there): snapshots stored before they existed
 * end after `dense` and decode with neither, and snapshots without them keep exactly
 * `requestSnapshotType`'s bytes.
 */
const candidateToolsType = avro.Type.forSchema({ type: 'array', items: 'string' });
const candidateHistoryType = avro.Type.forSchema('bytes');

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
  const history = snapshot.candidateHistory;
  if (tools !== undefined || history !== undefined) {
    writer.arrayStart(tools?.length ?? 0);
    if (tools) for (let i = 0; i < tools.length; i++) writer.string(tools[i]);
    writer.arrayEnd();
  }
  if (history !== undefined) writer.bytes(history);
  return writer.copy();
}

export function decodeRequestSnapshot(bytes: Buffer): RequestSnapshot {
  const read: { value: RequestSnapshot & { dense: number[] | null }; offset: number } = requestSnapshotType.decode(bytes, 0);
  const { value, offset } = read;
  if (offset < 0) throw new StateError('STATE_CORRUPT', `a stored request snapshot of ${bytes.length} bytes is truncated`);
  const decoded: RequestSnapshot = value.dense === null ? { ...value, dense: undefined } : value;
  if (offset < bytes.length) {
    const tools: { value: string[]; offset: number } = candidateToolsType.decode(bytes, offset);
    if (tools.offset < 0) throw new StateError('STATE_CORRUPT', `a stored request snapshot of ${bytes.length} bytes is truncated`);
    if (tools.value.length > 0 || tools.offset === bytes.length) decoded.candidateTools = tools.value;
    let end = tools.offset;
    if (end < bytes.length) {
      const history: { value: Buffer; offset: number } = candidateHistoryType.decode(bytes, end);
      if (history.offset < 0) throw new StateError('STATE_CORRUPT', `a stored request snapshot of ${bytes.length} bytes is truncated`);
      if (history.value.length !== decoded.candidates.length) {
        const what = `${history.value.length} history buckets for ${decoded.candidates.length} candidates`;
        throw new StateError('STATE_CORRUPT', `a stored request snapshot of ${bytes.length} bytes has trailing bytes or ${what}`);
      }
      decoded.candidateHistory = new Uint8Array(history.value);
      end = history.offset;
    }
    if (end !== bytes.length)
      throw new StateError('STATE_CORRUPT', `a stored request snapshot of ${bytes.length} bytes has trailing bytes`);
  }
  return decoded;
}
