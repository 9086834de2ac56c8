import { StateError } from '../../errors.js';
import type { KeyValueStore } from '../../state/store.js';
import { murmur3, murmur3Int2 } from '../features/murmur3.js';
import { rowKey } from '../rows/row-key.js';
import type { LookedUpEvent } from '../types.js';
import type { AdagradConfig } from './kernels/optimizers.js';

/** The validated options of a model's candidate crosses (recommender-model.ts). */
export interface CandidateCrossesConfig {
  /** Context fields crossed with every candidate, e.g. `prev_action` (the name before '=' in a feature key). */
  readonly fields: readonly string[];
  /** Hash buckets, a power of two. */
  readonly buckets: number;
  readonly optimizer: AdagradConfig;
}

/** Buckets per stored value: a step dirties a few chunks, and a commit writes only those. */
export const CHUNK_BUCKETS = 1024;
/** The table's size unless configured (bench/README.md, "Taken-action crosses"). */
export const DEFAULT_CROSS_BUCKETS = 32_768;
/** The table's size before DEFAULT_CROSS_BUCKETS grew, when state carried no size of its own. */
const UNRECORDED_BUCKETS = 16_384;
/** The bucket count the stored chunks were hashed into (u32): another count would read them as noise. */
const SIZE_KEY = rowKey('model', 'cross');

/**
 * The wide half of a wide-and-deep model: one learned score offset per (context feature,
 * candidate action) pair, for the context fields configured — by default the session's previous
 * action and its outcome, so "after a failed `search`, `search` again" is memorised from its first
 * few occurrences, where the FM's low-rank factors need many. Pairs are hashed into a fixed table
 * (memory stays bounded whatever the number of actions), stepped by AdaGrad with the same
 * dLoss/dScore as the rows.
 *
 * Kept in the task's store in chunks, changelogged and flushed with the rows at commit, so
 * crash-exact. Model sync shares the chunks' weights like the dense weights (summed deltas,
 * with their accumulators when optimizer state is shared): the pairs are knowledge about actions, not users, and each partition
 * alone sees only its share of them (bench/README.md, "Candidate crosses"). The WebGPU backend
 * steps a batch's buckets on the device from a compact copy (gather, then scatter).
 */
export class CandidateCrosses {
  /** Weights, then their AdaGrad accumulators. */
  private readonly table: Float32Array;
  private readonly mask: number;
  private readonly prefixes: readonly string[];
  private readonly dirtyChunks = new Set<number>();
  /** Scratch: the bucket of each (cross feature, candidate) pair of the event at hand, candidate-major. */
  private buckets = new Int32Array(64);
  private readonly featureHashes: number[] = [];
  /** The weight of each cross feature of the event at hand, parallel to featureHashes. */
  private readonly featureWeights: number[] = [];
  /**
   * The event the scratch holds, and its pair count: a feedback's pairs are asked for by model
   * sync, score and learn in a row, and are hashed once.
   */
  private bucketsFor?: LookedUpEvent;
  private bucketsCount = 0;
  /** Hashes of recent feature keys and action ids (platform-stable, so buckets survive restarts and upgrades): the same few hundred recur in every request. */
  private readonly hashes = new Map<string, number>();
  /** Each chunk's store key, as bytes and as a latin1 string (model sync's id for it), and back. */
  private readonly chunkKeys: Buffer[] = [];
  private readonly chunkIds: string[] = [];
  private readonly chunkById = new Map<string, number>();
  /** Whether the store holds the table's size (written with the first chunks saved). */
  private sizeRecorded = false;

  constructor(
    private readonly config: CandidateCrossesConfig,
    private readonly describe: string,
  ) {
    this.table = new Float32Array(2 * config.buckets);
    this.mask = config.buckets - 1;
    this.prefixes = config.fields.map((field) => `${field}=`);
    for (let chunk = 0; chunk < config.buckets / CHUNK_BUCKETS; chunk++) {
      const key = rowKey('model', `cross/${chunk}`);
      const id = key.toString('latin1');
      this.chunkKeys.push(key);
      this.chunkIds.push(id);
      this.chunkById.set(id, chunk);
    }
  }

  /** Weights per chunk: the length of a chunk's model-sync delta. */
  get chunkLength(): number {
    return CHUNK_BUCKETS;
  }

  get chunkCount(): number {
    return this.chunkIds.length;
  }

  /** A chunk's id (its store key, latin1), as model sync names it. */
  chunkId(chunk: number): string {
    return this.chunkIds[chunk];
  }

  /** The chunk a model-sync id names, or undefined when it is not one of this table's. */
  chunkOfId(id: string): number | undefined {
    return this.chunkById.get(id);
  }

  /** A live view of a chunk's weights. */
  chunkWeights(chunk: number): Float32Array {
    return this.table.subarray(chunk * CHUNK_BUCKETS, (chunk + 1) * CHUNK_BUCKETS);
  }

  /** A live view of a chunk's AdaGrad accumulators. */
  chunkAccumulators(chunk: number): Float32Array {
    const at = this.config.buckets + chunk * CHUNK_BUCKETS;
    return this.table.subarray(at, at + CHUNK_BUCKETS);
  }

  /** Records that a chunk's weights were changed from outside (model sync), so the next save writes it. */
  touchChunk(chunk: number): void {
    this.dirtyChunks.add(chunk);
  }

  /** The chunks learning from `e` may step: model sync remembers their weights before it does. */
  chunksOf(e: LookedUpEvent): Set<number> {
    const pairs = this.bucketsOf(e);
    const chunks = new Set<number>();
    for (let i = 0; i < pairs; i++) chunks.add((this.buckets[i] / CHUNK_BUCKETS) | 0);
    return chunks;
  }

  async load(store: KeyValueStore): Promise<void> {
    const chunkBytes = 2 * CHUNK_BUCKETS * 4;
    const values = await store.getMany(this.chunkKeys);
    const size = await store.get(SIZE_KEY);
    const storedBuckets = size ? size.readUInt32LE(0) : values.some(Boolean) ? UNRECORDED_BUCKETS : this.config.buckets;
    if (storedBuckets !== this.config.buckets) {
      const why = `${this.describe}: the stored candidate crosses were hashed into ${storedBuckets} buckets, but /model/candidateCrosses/buckets is ${this.config.buckets}`;
      throw new StateError(
        'STATE_CORRUPT',
        `${why}: set it back (--set crossBuckets=${storedBuckets}) or start from a new state directory`,
      );
    }
    this.sizeRecorded = size !== undefined;
    for (const [chunk, stored] of values.entries()) {
      if (!stored) continue;
      if (stored.length !== chunkBytes) {
        const why = `${this.describe}: stored candidate crosses chunk ${chunk} is ${stored.length} bytes, not ${chunkBytes}`;
        throw new StateError('STATE_CORRUPT', why);
      }
      const floats = new Float32Array(stored.buffer.slice(stored.byteOffset, stored.byteOffset + chunkBytes));
      this.table.set(floats.subarray(0, CHUNK_BUCKETS), chunk * CHUNK_BUCKETS);
      this.table.set(floats.subarray(CHUNK_BUCKETS), this.config.buckets + chunk * CHUNK_BUCKETS);
    }
  }

  /** Writes the chunks stepped since the last save (flushed with the rows at commit). */
  async save(store: KeyValueStore): Promise<void> {
    if (!this.sizeRecorded && this.dirtyChunks.size) {
      const size = Buffer.alloc(4);
      size.writeUInt32LE(this.config.buckets);
      await store.put(SIZE_KEY, size);
      this.sizeRecorded = true;
    }
    for (const chunk of this.dirtyChunks) {
      const at = chunk * CHUNK_BUCKETS;
      const value = Buffer.alloc(2 * CHUNK_BUCKETS * 4);
      Buffer.from(this.table.buffer, this.table.byteOffset + at * 4, CHUNK_BUCKETS * 4).copy(value, 0);
      Buffer.from(this.table.buffer, this.table.byteOffset + (this.config.buckets + at) * 4, CHUNK_BUCKETS * 4).copy(
        value,
        CHUNK_BUCKETS * 4,
      );
      await store.put(this.chunkKeys[chunk], value);
    }
    this.dirtyChunks.clear();
  }

  /** The AdaGrad settings the offsets step with (a batch backend steps them itself). */
  get optimizer(): AdagradConfig {
    return this.config.optimizer;
  }

  /**
   * The event's pair buckets, candidate-major, `perCandidate` per candidate (0: the event has no
   * cross feature), and the weight of each cross feature (a pair's offset counts that many
   * times): views of scratch that hold until another event's pairs are asked for.
   */
  pairsOf(e: LookedUpEvent): { buckets: Int32Array; perCandidate: number; weights: readonly number[] } {
    const pairs = this.bucketsOf(e);
    return {
      buckets: this.buckets.subarray(0, pairs),
      perCandidate: pairs === 0 ? 0 : this.featureHashes.length,
      weights: this.featureWeights,
    };
  }

  /** Copies each bucket's weight and accumulator, interleaved, into `into` (a batch's compact copy). */
  gather(buckets: ArrayLike<number>, into: Float32Array): void {
    const accumulators = this.config.buckets;
    for (let i = 0; i < buckets.length; i++) {
      into[2 * i] = this.table[buckets[i]];
      into[2 * i + 1] = this.table[accumulators + buckets[i]];
    }
  }

  /** Writes a batch's compact copy (as gather() laid it out) back, marking its chunks for the next save. */
  scatter(buckets: ArrayLike<number>, from: Float32Array): void {
    const accumulators = this.config.buckets;
    for (let i = 0; i < buckets.length; i++) {
      this.table[buckets[i]] = from[2 * i];
      this.table[accumulators + buckets[i]] = from[2 * i + 1];
      this.dirtyChunks.add((buckets[i] / CHUNK_BUCKETS) | 0);
    }
  }

  /** Adds each candidate's cross offsets, each times its context feature's weight, to its score. */
  score(e: LookedUpEvent, scores: Float32Array): void {
    const pairs = this.bucketsOf(e);
    if (pairs === 0) return;
    const perCandidate = this.featureHashes.length;
    const table = this.table;
    const weights = this.featureWeights;
    for (let c = 0, at = 0; c < e.candidates.length; c++) {
      let offset = 0;
      for (let f = 0; f < perCandidate; f++) offset += weights[f] * table[this.buckets[at++]];
      scores[c] += offset;
    }
  }

  /** Steps the offsets of the event's pairs by dLoss/dScore of their candidate times their feature's weight. */
  learn(e: LookedUpEvent, dScores: Float32Array): void {
    const pairs = this.bucketsOf(e);
    if (pairs === 0) return;
    const { learningRate, initialAccumulator, l2, gradientClip } = this.config.optimizer;
    const perCandidate = this.featureHashes.length;
    const table = this.table;
    const weights = this.featureWeights;
    const accumulators = this.config.buckets;
    for (let c = 0, at = 0; c < e.candidates.length; c++) {
      const raw = dScores[c];
      if (raw === 0) {
        at += perCandidate;
        continue;
      }
      const clipped = raw > gradientClip ? gradientClip : raw < -gradientClip ? -gradientClip : raw;
      for (let f = 0; f < perCandidate; f++) {
        const bucket = this.buckets[at++];
        const w = table[bucket];
        const g = clipped * weights[f] + l2 * w;
        const accumulator = table[accumulators + bucket] + g * g;
        table[accumulators + bucket] = accumulator;
        table[bucket] = w - (learningRate * g) / Math.sqrt(accumulator + initialAccumulator);
        this.dirtyChunks.add((bucket / CHUNK_BUCKETS) | 0);
      }
    }
  }

  /** Fills the scratch with the event's pair buckets; returns how many (0: no cross feature). */
  private bucketsOf(e: LookedUpEvent): number {
    if (e === this.bucketsFor) return this.bucketsCount;
    this.bucketsFor = e;
    this.bucketsCount = this.hashPairs(e);
    return this.bucketsCount;
  }

  private hashPairs(e: LookedUpEvent): number {
    const hashes = this.featureHashes;
    const weights = this.featureWeights;
    hashes.length = 0;
    weights.length = 0;
    for (const { key, weight } of e.features) {
      for (const prefix of this.prefixes) {
        if (key.startsWith(prefix)) {
          hashes.push(this.hashOf(key));
          weights.push(weight);
          break;
        }
      }
    }
    const candidates = e.request?.candidates;
    if (hashes.length === 0 || !candidates) return 0;
    const count = Math.min(candidates.length, e.candidates.length);
    const pairs = e.candidates.length * hashes.length;
    if (this.buckets.length < pairs) this.buckets = new Int32Array(pairs * 2);
    let at = 0;
    for (let c = 0; c < e.candidates.length; c++) {
      // Candidates past the request's list (none in practice) share the bucket of candidate ''.
      const action = this.hashOf(c < count ? candidates[c] : '');
      for (const feature of hashes) this.buckets[at++] = murmur3Int2(feature, action) & this.mask;
    }
    return pairs;
  }

  private hashOf(text: string): number {
    let hash = this.hashes.get(text);
    if (hash === undefined) {
      // Bounded: a stream of ever new ids must not grow it without end.
      if (this.hashes.size >= MAX_CACHED_HASHES) this.hashes.clear();
      hash = murmur3(text);
      this.hashes.set(text, hash);
    }
    return hash;
  }
}

const MAX_CACHED_HASHES = 50_000;
