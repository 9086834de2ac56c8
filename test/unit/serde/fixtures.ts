import type { ScoreRecord, TrajectoryEvent, TrajectoryEventV1 } from '../../../src/recommender/records.js';
import type { DeadLetterRecord } from '../../../src/topology/runtime/dead-letter.js';

/** A complete v1 event; tests override what they exercise. */
export function requestEventV1(overrides: Partial<TrajectoryEventV1> = {}): TrajectoryEventV1 {
  return {
    eventId: 'evt-1',
    kind: 'REQUEST',
    userId: 'user-42',
    sessionId: 'sess-7',
    eventTime: 1_731_000_000_123,
    requestId: null,
    tool: 'bash',
    domain: 'devops',
    repo: 'acme/api',
    errorType: null,
    agent: 'coder-v3',
    text: 'deploy the staging branch',
    code: 'kubectl rollout status deploy/api',
    candidates: [
      { actionId: 'act-run-tests', tool: 'bash', text: 'run the test suite first' },
      { actionId: 'act-deploy', tool: 'kubectl', text: null },
      { actionId: 'act-ask', tool: null, text: 'ask which cluster' },
    ],
    feedback: null,
    source: 'REAL',
    ...overrides,
  };
}

export function requestEvent(overrides: Partial<TrajectoryEvent> = {}): TrajectoryEvent {
  return { ...requestEventV1(), attributes: { language: 'go', 'ci.provider': 'github' }, ...overrides };
}

export function feedbackEvent(overrides: Partial<TrajectoryEvent> = {}): TrajectoryEvent {
  return requestEvent({
    eventId: 'evt-2',
    kind: 'FEEDBACK',
    requestId: 'evt-1',
    text: null,
    code: null,
    candidates: [],
    feedback: { signal: 'RATING', value: 4.5, actionId: 'act-deploy' },
    source: 'SIMULATED',
    ...overrides,
  });
}

export function scoreRecord(overrides: Partial<ScoreRecord> = {}): ScoreRecord {
  return {
    requestId: 'evt-1',
    userId: 'user-42',
    eventTime: 1_731_000_000_123,
    modelVersion: 'fm-d32@2024-11-25T17:00Z',
    scoredAt: 1_731_000_000_456,
    candidates: [
      { actionId: 'act-deploy', score: 0.8123456789, rank: 1 },
      { actionId: 'act-run-tests', score: -0.25, rank: 2 },
    ],
    // Float32-representable values: Avro floats are single precision.
    userEmbedding: Array.from(new Float32Array([0.1, -0.5, 1e-3, 3.25, -2.75])),
    ...overrides,
  };
}

export function deadLetter(overrides: Partial<DeadLetterRecord> = {}): DeadLetterRecord {
  return {
    topology: 'agent-recommender',
    step: 'decode-trajectories',
    errorCode: 'DECODE_FAILED',
    reason: '[DECODE_FAILED] bad magic 0x7b22: not Avro single-object encoding (expected 0xc301)',
    sourceTopic: 'agent.trajectories',
    sourcePartition: 3,
    sourceOffset: 9_007_199_254_740_000,
    key: Buffer.from('user-42'),
    value: Buffer.from([0x7b, 0x22, 0x00, 0xff]),
    failedAt: 1_731_000_001_000,
    ...overrides,
  };
}
