// The one way into the operators (DESIGN.md §7.1).
export { decode, type DecodeOptions } from './decode.js';
export { mapValues } from './map-values.js';
export { encode, type EncodeOptions } from './encode.js';
export { sparseLookup, type SparseLookupOptions } from './sparse-lookup.js';
export { interact, type InteractOptions } from './interact.js';
export { update, type UpdateOptions } from './update.js';
export { emit, type EmitOptions } from './emit.js';
export { recommenderModel, type RecommenderModel, type RecommenderModelOptions } from './recommender/recommender-model.js';
export { modelTopicName, type ModelSyncOptions } from './recommender/model-sync-config.js';
export type { EncodedEvent, LookedUpEvent, RequestSnapshot } from './recommender/types.js';
export * from './encoders/index.js';
