import type { CandidateCrosses } from '../../candidate-crosses.js';
import type { EmbeddingRow } from '../../../rows/embedding-row-store.js';
import type { LookedUpEvent } from '../../../types.js';

/**
 * The loss of one feedback event, as the learn step chooses it: what the GPU needs to turn the
 * event's scores into dLoss/dScore itself, so a whole batch runs without a round trip per event.
 *   softmax  — softmax cross-entropy, `index` the chosen candidate (CHOSEN with > 1 candidate)
 *   logistic — binary cross-entropy on `index` with label `value` (ACCEPT/LIKE 1, REJECT… 0)
 *   squared  — ½(s − value)² on `index` (RATING; `value` the centred, scaled target)
 * `index` −1: the top-scored candidate (argmax, first of ties), as learn.ts does without an action.
 */
export interface FeedbackLoss {
  readonly kind: 'softmax' | 'logistic' | 'squared';
  readonly index: number;
  readonly value: number;
  readonly weight: number;
  /** AdaGrad rate of the rows' linear weights for this event (ModelTask picks it per signal). */
  readonly linearLearningRate: number;
}

export interface BatchLearnItem {
  readonly event: LookedUpEvent;
  readonly loss: FeedbackLoss;
}

export const LOSS_CODE = { softmax: 0, logistic: 1, squared: 2 } as const;
/**
 * u32 fields per event: context start/count, candidate start/count, loss kind, index, value,
 * weight, linear rate, score start, whether it has action-history buckets, where its candidate
 * cross pairs start in the refs and how many each candidate has (0: none).
 */
export const EVENT_WORDS = 13;
/** A missing row (no user row, a candidate held back): zeros that take no update, as on the CPU path. */
export const MISSING_ROW = 0xffffffff;

/**
 * A batch packed for the GPU: its distinct rows once each (values and AdaGrad accumulators, in
 * first-use order), per event a header, per context entry a (row, weight) pair, per candidate a
 * (row, action-history bucket) pair, and per candidate cross pair (its index into the batch's
 * compact copy of the cross buckets it touches, its feature's weight); the copy holds each
 * bucket's weight and accumulator, interleaved.
 */
export interface FmBatchPlan {
  readonly rows: EmbeddingRow[];
  readonly rowFloats: number;
  readonly values: Float32Array;
  readonly slots: Float32Array;
  readonly events: Uint32Array;
  readonly refs: Uint32Array;
  readonly eventCount: number;
  /** Candidates over all events: where the output's losses begin. */
  readonly candidateTotal: number;
  /** The candidate-cross buckets the batch touches, in first-use order, and their weights and accumulators, interleaved. */
  readonly crossBuckets: Int32Array;
  readonly crossValues: Float32Array;
}

/**
 * Packs `items` in order. Rows are numbered through `backendSlot` (the batch shares one object
 * per row key), and every slot set here is reset before returning. With `crosses`, each event's
 * pairs are packed too and the buckets they touch copied out of the table.
 */
export function planFmBatch(items: readonly BatchLearnItem[], dim: number, userWeight = 1, crosses?: CandidateCrosses): FmBatchPlan {
  const rowFloats = dim + 1;
  const rows: EmbeddingRow[] = [];
  let refCount = 0;
  // Each event's cross pairs, hashed once: pairsOf() hands back scratch that the next event overwrites.
  const eventPairs = items.map(({ event }) => {
    const pairs = crosses?.pairsOf(event);
    return pairs && { buckets: pairs.buckets.slice(), perCandidate: pairs.perCandidate, weights: pairs.weights.slice() };
  });
  items.forEach(({ event }, e) => (refCount += 1 + event.features.length + event.candidates.length + (eventPairs[e]?.buckets.length ?? 0)));
  const crossBuckets: number[] = [];
  const crossIndex = new Map<number, number>();
  const refs = new Uint32Array(refCount * 2);
  const events = new Uint32Array(items.length * EVENT_WORDS);
  const floats = new Float32Array(events.buffer);
  const index = (row: EmbeddingRow | undefined): number => {
    if (!row) return MISSING_ROW;
    if (row.backendSlot < 0) row.backendSlot = rows.push(row) - 1;
    return row.backendSlot;
  };
  const refFloats = new Float32Array(refs.buffer);
  let at = 0;
  let scoreStart = 0;
  try {
    items.forEach(({ event, loss }, e) => {
      const h = e * EVENT_WORDS;
      events[h] = at;
      refs[2 * at] = index(event.user);
      refFloats[2 * at++ + 1] = userWeight;
      for (const f of event.features) {
        refs[2 * at] = index(f.row);
        refFloats[2 * at++ + 1] = f.weight;
      }
      events[h + 1] = at - events[h];
      events[h + 2] = at;
      const history = event.request?.candidateHistory;
      event.candidates.forEach((row, c) => {
        refs[2 * at] = index(row);
        refs[2 * at++ + 1] = history && c < history.length ? history[c] : 0;
      });
      events[h + 3] = event.candidates.length;
      events[h + 4] = LOSS_CODE[loss.kind];
      events[h + 5] = loss.index < 0 ? MISSING_ROW : loss.index;
      floats[h + 6] = loss.value;
      floats[h + 7] = loss.weight;
      floats[h + 8] = loss.linearLearningRate;
      events[h + 9] = scoreStart;
      events[h + 10] = history ? 1 : 0;
      events[h + 11] = at;
      const pairs = eventPairs[e];
      events[h + 12] = pairs?.perCandidate ?? 0;
      if (pairs) {
        // Candidate-major: the pair of feature f sits at f modulo perCandidate, and carries its weight.
        pairs.buckets.forEach((bucket, i) => {
          let compact = crossIndex.get(bucket);
          if (compact === undefined) crossIndex.set(bucket, (compact = crossBuckets.push(bucket) - 1));
          refs[2 * at] = compact;
          refFloats[2 * at++ + 1] = pairs.weights[i % pairs.perCandidate];
        });
      }
      scoreStart += event.candidates.length;
    });
  } finally {
    for (const row of rows) row.backendSlot = -1;
  }
  const values = new Float32Array(rows.length * rowFloats);
  const slots = new Float32Array(rows.length * rowFloats);
  rows.forEach((row, r) => {
    values.set(row.values.subarray(0, rowFloats), r * rowFloats);
    slots.set(row.slots.subarray(0, rowFloats), r * rowFloats);
  });
  const buckets = Int32Array.from(crossBuckets);
  const crossValues = new Float32Array(2 * buckets.length);
  crosses?.gather(buckets, crossValues);
  return {
    rows,
    rowFloats,
    values,
    slots,
    events,
    refs,
    eventCount: items.length,
    candidateTotal: scoreStart,
    crossBuckets: buckets,
    crossValues,
  };
}

/**
 * The batch packed for the DCN shader: as planFmBatch, except that each feature's ref carries
 * its DCN slot above `slotShift` and its weight divided by its slot's row count (x0's slot block
 * is the weighted mean of the slot's rows).
 */
export function planDcnBatch(
  items: readonly BatchLearnItem[],
  dim: number,
  slotOf: (key: string) => number,
  slotShift: number,
  crosses?: CandidateCrosses,
): FmBatchPlan {
  const plan = planFmBatch(items, dim, 1, crosses);
  if (plan.rows.length >= 2 ** slotShift) throw new RangeError(`a DCN batch holds at most ${2 ** slotShift - 1} rows`);
  const refFloats = new Float32Array(plan.refs.buffer);
  const counts = new Map<number, number>();
  items.forEach(({ event }, e) => {
    const first = plan.events[e * EVENT_WORDS] + 1;
    counts.clear();
    const slots = event.features.map((f) => slotOf(f.key));
    for (const slot of slots) counts.set(slot, (counts.get(slot) ?? 0) + 1);
    slots.forEach((slot, i) => {
      const at = 2 * (first + i);
      plan.refs[at] = (slot << slotShift) | plan.refs[at];
      refFloats[at + 1] = event.features[i].weight / counts.get(slot)!;
    });
  });
  return plan;
}
