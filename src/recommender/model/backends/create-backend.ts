import { ConfigError } from '../../../errors.js';
import type { RecommenderModel } from '../recommender-model.js';
import type { BackendKind, DenseWeights, ModelBackend } from './model-backend.js';
import { TypeScriptBackend } from './typescript/typescript-backend.js';
import { WasmSimdBackend, wasmSimdObstacle } from './wasm-simd/wasm-simd-backend.js';
import { webgpuAutoObstacle } from './webgpu/webgpu-auto.js';
import { WebGpuBackend, webgpuObstacle } from './webgpu/webgpu-backend.js';

/** What decides whether a backend can run a model, known before the model object exists. */
export interface BackendRequirements {
  readonly interaction: 'fm' | 'dcn';
  readonly optimizer: 'adagrad' | 'ftrl';
  readonly denseInputDim: number;
  readonly dim: number;
  readonly candidateTools: boolean;
  /** With interaction 'dcn': the workgroup memory its WebGPU shader would declare (dcn-wgsl.ts). */
  readonly dcnWorkgroupBytes?: number;
  /** The dense weights' optimizer where known (WebGPU steps the bias with AdaGrad only). */
  readonly denseOptimizerKind?: 'adagrad' | 'adam';
  /** Events per learning batch where the caller knows it; 'auto' takes the GPU only for large ones. */
  readonly batchEvents?: number;
}

interface BackendEntry {
  /** Why this backend cannot run the model, or undefined when it can. */
  obstacle(model: BackendRequirements): string | undefined;
  /** Why 'auto' should not take it though it can run the model (default: no reason). */
  autoObstacle?(model: BackendRequirements): string | undefined;
  create(model: RecommenderModel, dense: DenseWeights): ModelBackend;
}

const BACKENDS: Readonly<Record<BackendKind, BackendEntry>> = {
  webgpu: {
    obstacle: webgpuObstacle,
    autoObstacle: (model) => webgpuAutoObstacle(model),
    create: (model, dense) => new WebGpuBackend(model, dense),
  },
  'wasm-simd': { obstacle: wasmSimdObstacle, create: (model, dense) => new WasmSimdBackend(model, dense) },
  typescript: { obstacle: () => undefined, create: (model, dense) => new TypeScriptBackend(model, dense) },
};

/** The backends 'auto' tries, fastest first; TypeScript runs every model. */
const AUTO_ORDER: readonly BackendKind[] = ['webgpu', 'wasm-simd', 'typescript'];

/**
 * The backend for `requested` ('auto' or a kind): 'auto' takes the first that can run the model;
 * a named one that cannot is a ConfigError at `path` saying why.
 */
export function resolveBackend(requested: unknown, model: BackendRequirements, path: string): BackendKind {
  const choice = requested ?? 'auto';
  if (choice === 'auto') {
    const usable = (kind: BackendKind) =>
      BACKENDS[kind].obstacle(model) === undefined && BACKENDS[kind].autoObstacle?.(model) === undefined;
    return AUTO_ORDER.find(usable) ?? 'typescript';
  }
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
