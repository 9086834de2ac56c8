import type { SparseFeature } from './text-encoder.js';
import { StateError } from '../../errors.js';

/**
 * What a user has taken before: how many times each action was chosen or accepted, for the
 * actions taken most. A candidate's count, bucketed, becomes a learned score offset, so the model
 * can learn how much people repeat themselves (a lot on most agent logs) without a weight per
 * (user, action) pair.
 */
export interface ActionHistoryState {
  /** Latest event time applied (ms): entries idle past the TTL read as absent, then are swept. */
  lastTime: number;
  /** Parallel arrays, in the order actions were first taken. */
  actions: string[];
  counts: number[];
}

/** Count buckets: 0, 1, 2, 3–4, 5–8, 9+ (a candidate never taken is bucket 0). */
export const HISTORY_BUCKETS = 6;

export function historyBucket(count: number): number {
  if (count <= 2) return count < 0 ? 0 : count;
  if (count <= 4) return 3;
  return count <= 8 ? 4 : 5;
}

export function freshHistory(time: number): ActionHistoryState {
  return { lastTime: time, actions: [], counts: [] };
}

/**
 * Counts one more take of `action`. Past `maxActions` the least-taken action goes (the earliest
 * first taken among equals), so the bound depends on the events alone and a replay keeps the same ones.
 */
export function recordTake(state: ActionHistoryState, action: string, maxActions: number): void {
  const at = state.actions.indexOf(action);
  if (at >= 0) {
    state.counts[at]++;
    return;
  }
  if (state.actions.length >= maxActions) {
    let evict = 0;
    for (let i = 1; i < state.counts.length; i++) if (state.counts[i] < state.counts[evict]) evict = i;
    state.actions.splice(evict, 1);
    state.counts.splice(evict, 1);
  }
  state.actions.push(action);
  state.counts.push(1);
}

/** Each candidate's count bucket, in candidate order. */
export function candidateBuckets(
  state: ActionHistoryState | undefined,
  candidates: readonly { actionId: string }[],
  limit: number,
): Uint8Array {
  const n = Math.min(candidates.length, limit);
  const out = new Uint8Array(n);
  if (!state || state.actions.length === 0) return out;
  for (let i = 0; i < n; i++) {
    const at = state.actions.indexOf(candidates[i].actionId);
    if (at >= 0) out[i] = historyBucket(state.counts[at]);
  }
  return out;
}

/**
 * The user's `limit` most-taken actions as request features, most taken first (among equals the
 * latest first taken), put first so a long text's n-grams cut at the model's maxFeatures never drop them.
 */
export function addTakenFeatures(out: SparseFeature[], state: ActionHistoryState, limit: number): void {
  const n = state.actions.length;
  if (n === 0) return;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => state.counts[b] - state.counts[a] || b - a);
  const picked = order.slice(0, limit);
  const weight = 1 / Math.sqrt(picked.length);
  for (let i = picked.length - 1; i >= 0; i--) out.unshift({ key: `taken=${state.actions[picked[i]]}`, weight });
}

/** f64 lastTime, u16 n, then n × (u16 byte length, UTF-8 action id, u32 count). */
export function encodeHistory(state: ActionHistoryState): Buffer {
  let size = 10;
  const lengths = state.actions.map((a) => Buffer.byteLength(a));
  for (const l of lengths) size += 6 + l;
  const out = Buffer.allocUnsafe(size);
  out.writeDoubleLE(state.lastTime, 0);
  out.writeUInt16LE(state.actions.length, 8);
  let at = 10;
  for (let i = 0; i < state.actions.length; i++) {
    out.writeUInt16LE(lengths[i], at);
    out.write(state.actions[i], at + 2, 'utf8');
    at += 2 + lengths[i];
    out.writeUInt32LE(state.counts[i], at);
    at += 4;
  }
  return out;
}

export function decodeHistory(bytes: Buffer, storeName: string): ActionHistoryState {
  const corrupt = () =>
    new StateError('STATE_CORRUPT', `store '${storeName}': an action-history entry of ${bytes.length} bytes is malformed`);
  if (bytes.length < 10) throw corrupt();
  const state = freshHistory(bytes.readDoubleLE(0));
  const n = bytes.readUInt16LE(8);
  let at = 10;
  for (let i = 0; i < n; i++) {
    if (at + 2 > bytes.length) throw corrupt();
    const length = bytes.readUInt16LE(at);
    if (at + 2 + length + 4 > bytes.length) throw corrupt();
    state.actions.push(bytes.toString('utf8', at + 2, at + 2 + length));
    at += 2 + length;
    state.counts.push(bytes.readUInt32LE(at));
    at += 4;
  }
  if (at !== bytes.length) throw corrupt();
  return state;
}

/** The entry's last event time, read without decoding the rest (the TTL sweep reads every entry). */
export function historyLastTime(bytes: Buffer, storeName: string): number {
  if (bytes.length < 10)
    throw new StateError('STATE_CORRUPT', `store '${storeName}': an action-history entry of ${bytes.length} bytes is malformed`);
  return bytes.readDoubleLE(0);
}
