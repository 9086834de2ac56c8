/**
 * TypeScript shapes of the records in schemas/*.avsc, as the Avro serde reads and writes them:
 * longs (timestamps included) are numbers of milliseconds, enums are string unions, nullable
 * fields are `T | null`. Keep in step with the .avsc files; the serde tests round-trip them.
 */

export type EventKind = 'REQUEST' | 'TOOL_CALL' | 'TOOL_RESULT' | 'AGENT_RESPONSE' | 'FEEDBACK';

export type FeedbackSignal = 'ACCEPT' | 'REJECT' | 'LIKE' | 'DISLIKE' | 'CORRECTION' | 'RATING' | 'CHOSEN';

export type EventSource = 'REAL' | 'SIMULATED';

/**
 * dev.agentrec.Candidate: an action the agent could take next. `tool` and `text` are absent when
 * read by a serde that skips them (the agent-recommender does: it knows actions by id); written
 * absent, they are null.
 */
export interface Candidate {
  actionId: string;
  tool?: string | null;
  text?: string | null;
}

/** dev.agentrec.Feedback */
export interface Feedback {
  signal: FeedbackSignal;
  /** 1/0 for binary signals, the stars for RATING. */
  value: number;
  /** The candidate the feedback is about; required for CHOSEN. */
  actionId: string | null;
}

/** dev.agentrec.TrajectoryEvent as written by schemas/trajectory-event.v1.avsc. */
export interface TrajectoryEventV1 {
  eventId: string;
  kind: EventKind;
  userId: string;
  sessionId: string;
  /** timestamp-millis */
  eventTime: number;
  /** The REQUEST this event belongs to or answers; on a REQUEST, null means eventId is the request id. */
  requestId: string | null;
  tool: string | null;
  domain: string | null;
  repo: string | null;
  errorType: string | null;
  agent: string | null;
  text: string | null;
  code: string | null;
  candidates: Candidate[];
  feedback: Feedback | null;
  source: EventSource;
}

/** dev.agentrec.TrajectoryEvent, latest version (v2). */
export interface TrajectoryEvent extends TrajectoryEventV1 {
  /** Added in v2; `{}` when read from a v1 writer. */
  attributes: Record<string, string>;
}

/** dev.agentrec.ScoredCandidate */
export interface ScoredCandidate {
  actionId: string;
  score: number;
  /** 1 = best. */
  rank: number;
}

/** dev.agentrec.ScoreRecord (schemas/score-record.v1.avsc), keyed by userId on the output topic. */
export interface ScoreRecord {
  requestId: string;
  userId: string;
  /** timestamp-millis: the REQUEST's eventTime. */
  eventTime: number;
  modelVersion: string;
  /** timestamp-millis */
  scoredAt: number;
  candidates: ScoredCandidate[];
  /** Plain numbers (Avro floats); convert a Float32Array row with Array.from. */
  userEmbedding: number[];
}

/** What every event must say; the rest defaults to absent. */
export type TrajectoryEventCore = Pick<TrajectoryEvent, 'eventId' | 'kind' | 'userId' | 'sessionId' | 'eventTime'>;

/** A TrajectoryEvent with every optional field absent (null, empty, source REAL) unless given. */
export function trajectoryEvent(fields: TrajectoryEventCore & Partial<TrajectoryEvent>): TrajectoryEvent {
  return {
    requestId: null,
    tool: null,
    domain: null,
    repo: null,
    errorType: null,
    agent: null,
    text: null,
    code: null,
    candidates: [],
    feedback: null,
    source: 'REAL',
    attributes: {},
    ...fields,
  };
}
