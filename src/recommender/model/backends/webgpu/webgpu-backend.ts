import { ConfigError } from '../../../../errors.js';
import type { LookedUpEvent } from '../../../types.js';
import type { CandidateCrosses } from '../../candidate-crosses.js';
import type { AdagradConfig } from '../../kernels/optimizers.js';
import type { RecommenderModel } from '../../recommender-model.js';
import type { BackendRequirements } from '../create-backend.js';
import type { DenseWeights, ModelBackend } from '../model-backend.js';
import { TypeScriptBackend } from '../typescript/typescript-backend.js';
import { learnBatchOnCpu, type BatchLearnResult, type HistoryOffsets } from './cpu-batch.js';
import { planFmBatch, type BatchLearnItem } from './fm-batch-plan.js';
import { acquireGpu } from './gpu-device.js';
import { WebGpuFmKernel } from './webgpu-fm-kernel.js';
import { GpuError } from './gpu-error.js';
import type { FmShaderShape } from './fm-wgsl.js';

/** Why the WebGPU FM kernel cannot run `model`, or undefined when it can. */
export function webgpuObstacle(model: BackendRequirements): string | undefined {
  if (model.interaction !== 'fm') return 'it runs FM only (interaction is dcn)';
  if (model.optimizer !== 'adagrad') return 'its row update is AdaGrad (optimizer is ftrl)';
  if (model.denseInputDim > 0) return 'the text vector projection is not in it (denseInputDim > 0)';
  if (model.candidateTools) return 'a candidate is one row in it (candidateTools is on)';
  if (model.denseOptimizerKind === 'adam') return "its bias update is AdaGrad (denseOptimizer is 'adam')";
  return undefined;
}

export interface WebGpuBackendOptions {
  /** Where a GPU failure is reported (default: stderr). */
  log?: (message: string) => void;
  /** Where the device the first batch ran on is reported (default: stderr). */
  info?: (message: string) => void;
}

/**
 * FM with AdaGrad rows on WebGPU. The ModelBackend calls (score/learn per event, synchronous)
 * run on the TypeScript kernel: a GPU result arrives only asynchronously, and a round trip per
 * event would cost more than the event. The GPU runs whole batches through learnBatch(): the
 * batch's rows are packed once, every event is scored, its loss taken and its update applied
 * in order by one shader dispatch, and the rows come back before they are stored.
 *
 * A device loss or a shader/validation error is logged with the step and stage, and the batch
 * runs on the CPU kernel instead: GPU results are copied into the row objects only after the
 * whole batch succeeded, so no event is lost or applied twice. A batch with a non-finite
 * gradient also reruns on the CPU, where the event's dead-lettering and the rating centre it
 * leaves unchanged are exactly the learn step's.
 */
export class WebGpuBackend implements ModelBackend {
  readonly kind = 'webgpu';
  private readonly cpu: TypeScriptBackend;
  private readonly sparse: AdagradConfig;
  private readonly denseConfig: AdagradConfig;
  private readonly log: (message: string) => void;
  private readonly info: (message: string) => void;
  private readonly shape: FmShaderShape;
  private kernel?: Promise<WebGpuFmKernel>;
  /** Batches that ran on the CPU after a GPU failure (for tests and metrics). */
  fallbacks = 0;

  constructor(
    private readonly model: RecommenderModel,
    private readonly dense: DenseWeights,
    options: WebGpuBackendOptions = {},
  ) {
    const obstacle = webgpuObstacle({ ...model, optimizer: model.sparseOptimizer.kind, denseOptimizerKind: model.denseOptimizer.kind });
    if (obstacle !== undefined || model.sparseOptimizer.kind !== 'adagrad' || model.denseOptimizer.kind !== 'adagrad') {
      throw new ConfigError('/model/backend', `'webgpu' cannot run this model: ${obstacle}`);
    }
    this.sparse = model.sparseOptimizer.config;
    this.denseConfig = model.denseOptimizer.config;
    this.cpu = new TypeScriptBackend(model, dense);
    this.shape = { dim: model.dim, maxContext: model.maxFeatures + 2, maxCandidates: model.maxCandidates };
    this.log = options.log ?? ((m) => console.error(`[agentrec] ${m}`));
    this.info = options.info ?? this.log;
  }

  beginBatch(): void {
    this.cpu.beginBatch();
  }

  score(e: LookedUpEvent, scores: Float32Array): void {
    this.cpu.score(e, scores);
  }

  learn(e: LookedUpEvent, dScores: Float32Array, linearLearningRate: number): boolean {
    return this.cpu.learn(e, dScores, linearLearningRate);
  }

  endBatch(): void {
    this.cpu.endBatch();
  }

  /**
   * Learns from `items` in order on the GPU (the CPU on failure): rows and the bias are updated
   * in place, `denseSlots` (the bias's AdaGrad accumulator first) with them, and `history`'s
   * offsets and the `crosses`' where given. `step` names the topology step in the log line of a failure.
   */
  async learnBatch(
    items: readonly BatchLearnItem[],
    denseSlots: Float32Array,
    step = 'learn',
    history?: HistoryOffsets,
    crosses?: CandidateCrosses,
  ): Promise<BatchLearnResult> {
    return (await this.tryLearnBatch(items, denseSlots, step, history, crosses)) ?? this.onCpu(items, denseSlots, history, crosses);
  }

  /**
   * The batch on the GPU, or undefined with nothing changed: after a GPU failure (logged with
   * the step, counted in `fallbacks`) or when an event's gradient was not finite. Results are
   * copied into the row objects only once the whole batch succeeded.
   */
  async tryLearnBatch(
    items: readonly BatchLearnItem[],
    denseSlots: Float32Array,
    step = 'learn',
    history?: HistoryOffsets,
    crosses?: CandidateCrosses,
  ): Promise<BatchLearnResult | undefined> {
    if (items.length === 0) return undefined;
    const plan = planFmBatch(items, this.model.dim, this.model.userWeight, crosses);
    try {
      const bias = { bias: this.dense.values[0], accumulator: denseSlots[0], history: history?.state };
      this.kernel ??= acquireGpu().then(async (gpu) => {
        const kernel = await WebGpuFmKernel.create(gpu, this.shape);
        const { description, architecture, software } = gpu.adapter;
        this.info(`step '${step}': learning on WebGPU, adapter ${description || architecture}${software ? ' (software)' : ''}`);
        return kernel;
      });
      const optimizers = {
        sparse: this.sparse,
        dense: this.denseConfig,
        history: history?.config ?? this.denseConfig,
        cross: crosses?.optimizer,
      };
      const out = await (await this.kernel).run(plan, bias, optimizers);
      if (out.applied.includes(0)) return undefined;
      const n = plan.rowFloats;
      plan.rows.forEach((row, r) => {
        row.values.set(plan.values.subarray(r * n, (r + 1) * n));
        row.slots.set(plan.slots.subarray(r * n, (r + 1) * n));
      });
      this.dense.values[0] = out.bias.bias;
      denseSlots[0] = out.bias.accumulator;
      if (history && out.bias.history) history.state.set(out.bias.history);
      crosses?.scatter(plan.crossBuckets, plan.crossValues);
      const scoreOffsets = new Uint32Array(items.length);
      for (let i = 1; i < items.length; i++) scoreOffsets[i] = scoreOffsets[i - 1] + items[i - 1].event.candidates.length;
      return { ran: 'webgpu', scores: out.scores, scoreOffsets, losses: out.losses, applied: out.applied };
    } catch (error) {
      if (!(error instanceof GpuError)) throw error;
      // A lost device or a failed compile is retried by the next batch, on a fresh device if need be.
      this.kernel = undefined;
      this.fallbacks++;
      this.log(`step '${step}': ${error.message} [${error.code}]; the batch of ${items.length} events runs on the CPU kernel`);
      return undefined;
    }
  }

  private onCpu(
    items: readonly BatchLearnItem[],
    denseSlots: Float32Array,
    history?: HistoryOffsets,
    crosses?: CandidateCrosses,
  ): BatchLearnResult {
    return learnBatchOnCpu(this.cpu, this.dense, denseSlots, this.denseConfig, items, this.model.maxCandidates, history, crosses);
  }
}
