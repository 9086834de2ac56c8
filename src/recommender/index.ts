// The recommender: the one way in for topologies that score and learn from trajectories.
export { encode, type EncodeOptions } from './steps/encode.js';
export { sessionContext, SESSION_FEATURES, type SessionContextOptions, type SessionFeature } from './steps/session-context.js';
export { lookup, type LookupOptions } from './steps/lookup.js';
export { score, type ScoreOptions } from './steps/score.js';
export { learn, type LearnOptions } from './steps/learn.js';
export { emit, type EmitOptions } from './steps/emit.js';
export { recommenderModel, type RecommenderModel, type RecommenderModelOptions } from './model/recommender-model.js';
export { MODEL_STEPS, type ModelStep } from './model/model-protocol.js';
export { modelTopicName, type ModelSyncOptions } from './sync/model-sync-config.js';
export type { EncodedEvent, LookedUpEvent, RequestSnapshot } from './types.js';
export type * from './records.js';
export { validateTrajectoryEvent } from './validate-trajectory-event.js';
export { scoreRecordSerde, SCORE_RECORD_V1_FINGERPRINT } from './score-record-body.js';
export { SimulatedUsers } from './simulation/simulated-users.js';
export { LiveBaselines, type BaselineHitRate } from './simulation/live-baselines.js';
export { MODEL_SETTINGS, modelOptionsFromSettings } from './model/model-settings.js';
export { ratingFromScore } from './model/rating-readout.js';
export * from './features/index.js';
