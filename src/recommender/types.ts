import type { TrajectoryEvent } from './records.js';
import type { EmbeddingRow } from './rows/embedding-row-store.js';
import type { SparseFeature } from './features/text-encoder.js';

/** encode → lookup: the event with its context features (the user row is implied). */
export interface EncodedEvent {
  event: TrajectoryEvent;
  /**
   * Exact-key features (tool=git, tool=git×domain=web, hour=13, text n-gram buckets…) with
   * weights. Keys are unique within one event (the FM takes each row once); `encode` guarantees
   * it by rejecting repeated fields, crosses and attributes in its config.
   */
  features: SparseFeature[];
  /** Pretrained text vector (transformers encoder), when configured. */
  dense?: Float32Array;
  /** Set by the actionHistory step on requests: each candidate's bucket of how often the user took it before. */
  candidateHistory?: Uint8Array;
}

/**
 * What the model saw when it scored a request, kept (bounded by TTL) so that feedback arriving
 * later updates the model with exactly those features.
 */
export interface RequestSnapshot {
  requestId: string;
  userId: string;
  eventTime: number;
  features: SparseFeature[];
  /** Candidate action ids, in the order they were scored. */
  candidates: string[];
  /**
   * With the model's candidateTools on: each candidate's tool ('' for none), parallel to
   * `candidates`, so feedback learns the tool rows the request was scored with.
   */
  candidateTools?: string[];
  dense?: number[];
  /**
   * With an actionHistory step: each candidate's count bucket at scoring time, parallel to
   * `candidates` (a candidate past its end, e.g. an action first seen in feedback, is bucket 0).
   */
  candidateHistory?: Uint8Array;
}

/** The record's job in the learner. */
export type LearnerRole = 'score' | 'learn' | 'ignore';

/** lookup → score → learn: the rows an event touches, gathered from the partition's store. */
export interface LookedUpEvent {
  event: TrajectoryEvent;
  role: LearnerRole;
  /** For 'score' the request being scored; for 'learn' the request the feedback answers (or a fallback). */
  request?: RequestSnapshot;
  /** Feedback only: whether a stored request matched (false = user + action fallback). */
  matched?: boolean;
  user?: EmbeddingRow;
  /** Feature rows admitted by the frequency filter, with their weights and keys (DCN's field slots read the keys). */
  features: { row: EmbeddingRow; weight: number; key: string }[];
  /** One per request candidate; undefined while the filter holds the action back. */
  candidates: (EmbeddingRow | undefined)[];
  /**
   * With the model's candidateTools on: each candidate's `ctool=<tool>` row, added to its action
   * row (undefined: no tool, or held back by the filter).
   */
  candidateTools?: (EmbeddingRow | undefined)[];
  dense?: Float32Array;
  /** Set by interact for 'score' records: one score per candidate (single-precision values). */
  scores?: number[];
  /** Set by interact: the model version that produced the scores. */
  modelVersion?: string;
  /**
   * Set by interact: a copy of the user's factors at scoring time (later updates do not leak in),
   * as a plain array because that is what the score record's Avro writer takes.
   */
  userEmbedding?: number[];
}
