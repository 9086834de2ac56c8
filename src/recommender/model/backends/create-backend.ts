import { ConfigError } from '../../../errors.js';
import type { RecommenderModel } from '../recommender-model.js';
import type { BackendKind, DenseWeights, ModelBackend } from './model-backend.js';
import { TypeScriptBackend } from './typescript/typescript-backend.js';
import { WasmSimdBackend, wasmSimdObstacle } from './wasm-simd/wasm-simd-backend.js';

/** What decides whether a backend can run a model, known before the model object exists. */
export interface BackendRequirements {
  readonly interaction: 'fm' | 'dcn';
  readonly optimizer: 'adagrad' | 'ftrl';
  readonly denseInputDim: number;
  readonly dim: number;
  readonly candidateTools: boolean;
}

interface BackendEntry {
  /** Why this backend cannot run the model, or undefined when it can. */
  obstacle(model: BackendRequirements): string | undefined;
  create(model: RecommenderModel, dense: DenseWeights): ModelBackend;
}

const BACKENDS: Readonly<Record<BackendKind, BackendEntry>> = {
  'wasm-simd': { obstacle: wasmSimdObstacle, create: (model, dense) => new WasmSimdBackend(model, dense) },
  typescript: { obstacle: () => undefined, create: (model, dense) => new TypeScriptBackend(model, dense) },
};

/** The backends 'auto' tries, fastest first; TypeScript runs every model. */
const AUTO_ORDER: readonly BackendKind[] = ['wasm-simd', 'typescript'];

/**
 * The backend for `requested` ('auto' or a kind): 'auto' takes the first that can run the model;
 * a named one that cannot is a ConfigError at `path` saying why.
 */
export function resolveBackend(requested: unknown, model: BackendRequirements, path: string): BackendKind {
  const choice = requested ?? 'auto';
  if (choice === 'auto') return AUTO_ORDER.find((kind) => BACKENDS[kind].obstacle(model) === undefined) ?? 'typescript';
  if (typeof choice !== 'string' || !Object.hasOwn(BACKENDS, choice)) {
    const kinds = Object.keys(BACKENDS).map((k) => `'${k}'`);
    throw new ConfigError(path, `must be 'auto' or one of ${kinds.join(', ')}, got ${JSON.stringify(choice)}`);
  }
  const obstacle = BACKENDS[choice as BackendKind].obstacle(model);
  if (obstacle !== undefined) throw new ConfigError(path, `'${choice}' cannot run this model: ${obstacle}`);
  return choice as BackendKind;
}

/** The backend the model was resolved to (recommenderModel checked that it can run it). */
export function createBackend(model: RecommenderModel, dense: DenseWeights): ModelBackend {
  return BACKENDS[model.backend].create(model, dense);
}
