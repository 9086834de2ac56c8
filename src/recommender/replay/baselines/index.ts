export { ALL_NEEDS, type Baseline, type CandidatePredictions, type PredictionNeeds } from './baseline.js';
export { GlobalPopularity } from './global-popularity.js';
export { UserPopularity } from './user-popularity.js';
export { MarkovChain } from './markov.js';
export { RunningMean } from './running-mean.js';
export { UserItemBias } from './user-item-bias.js';
