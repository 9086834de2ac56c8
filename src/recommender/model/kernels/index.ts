/** The learning math: plain functions over Float32Array, scheduled by the interact/update operators. */
export { isFiniteArray, dot, dotAt, addScaled, clamp } from './vector.js';
export { splitmix32, fnv1a32, deriveSeed, fillUniform, fillGaussian, fillGlorotUniform, type Random } from './prng.js';
export { fmRowLength, createFmWorkspace, fmPrepareContext, fmScore, fmScoreOne, fmBackward, type FmWorkspace } from './fm.js';
export {
  resolveCrossNetworkLayout,
  createCrossNetworkWorkspace,
  initCrossNetwork,
  crossNetworkSharedFirstLayer,
  crossNetworkForward,
  crossNetworkBackward,
  type CrossNetworkLayout,
  type CrossNetworkWorkspace,
} from './dcn.js';
export { resolveMlpLayout, createMlpWorkspace, initMlp, mlpForward, mlpBackward, type MlpLayout, type MlpWorkspace } from './mlp.js';
export {
  DEFAULT_DCN_FIELDS,
  TRAJECTORY_DCN_FIELDS,
  MAX_DCN_FIELDS,
  resolveDcnScorer,
  createDcnScorerWorkspace,
  initDcnScorer,
  dcnScorerForward,
  dcnScorerBackward,
  type DcnScorerModel,
  type DcnScorerWorkspace,
  type DcnContext,
  type DcnRowGradients,
} from './dcn-scorer.js';
export { sigmoid, softplus, logisticLoss, squaredLoss, softmaxCrossEntropyLoss } from './losses.js';
export {
  ADAGRAD_SLOT_COUNT,
  FTRL_SLOT_COUNT,
  resolveAdagradConfig,
  resolveFtrlConfig,
  resolveAdamConfig,
  adagradUpdate,
  ftrlUpdate,
  createAdamState,
  adamUpdate,
  type AdagradConfig,
  type FtrlConfig,
  type AdamConfig,
  type AdamState,
} from './optimizers.js';
