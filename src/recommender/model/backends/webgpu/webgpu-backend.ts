import { ConfigError } from '../../../../errors.js';
import type { LookedUpEvent } from '../../../types.js';
import type { CandidateCrosses } from '../../candidate-crosses.js';
import type { AdagradConfig } from '../../kernels/optimizers.js';
import type { RecommenderModel } from '../../recommender-model.js';
import type { BackendRequirements } from '../create-backend.js';
import { denseLayout, type DenseWeights, type ModelBackend } from '../model-backend.js';
import { TypeScriptBackend } from '../typescript/typescript-backend.js';
import { learnBatchOnCpu, type BatchLearnResult, type HistoryOffsets } from './cpu-batch.js';
import { DCN_SLOT_SHIFT, dcnWorkgroupBytes, MAX_WORKGROUP_BYTES } from './dcn-wgsl.js';
import { planDcnBatch, planFmBatch, type BatchLearnItem } from './fm-batch-plan.js';
import { acquireGpu } from './gpu-device.js';
import { dcnProgram, fmProgram, WebGpuLearnKernel, type KernelProgram } from './webgpu-learn-kernel.js';
import { GpuError } from './gpu-error.js';

/** Why the WebGPU kernels cannot run `model`, or undefined when they can. */
export function webgpuObstacle(model: BackendRequirements): string | undefined {
  if (model.dcnWorkgroupBytes !== undefined && model.dcnWorkgroupBytes > MAX_WORKGROUP_BYTES) {
    const why = `its DCN shader would need ${model.dcnWorkgroupBytes} bytes of workgroup memory, more than the ${MAX_WORKGROUP_BYTES} every device offers`;
    return `${why} (a narrower x0 or MLP, or a smaller maxCandidates, fits)`;
  }
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
 * FM or DCN-v2 with AdaGrad rows on WebGPU. The ModelBackend calls (score/learn per event, synchronous)
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
  private readonly program: () => KernelProgram;
  private kernel?: Promise<WebGpuLearnKernel>;
  /** Batches that ran on the CPU after a GPU failure (for tests and metrics). */
  fallbacks = 0;

  constructor(
    private readonly model: RecommenderModel,
    private readonly dense: DenseWeights,
    options: WebGpuBackendOptions = {},
  ) {
    const obstacle = webgpuObstacle({
      ...model,
      optimizer: model.sparseOptimizer.kind,
      denseOptimizerKind: model.denseOptimizer.kind,
      dcnWorkgroupBytes: model.dcn && dcnWorkgroupBytes(model.dcn, model.maxCandidates),
    });
    if (obstacle !== undefined || model.sparseOptimizer.kind !== 'adagrad' || model.denseOptimizer.kind !== 'adagrad') {
      throw new ConfigError('/model/backend', `'webgpu' cannot run this model: ${obstacle}`);
    }
    this.sparse = model.sparseOptimizer.config;
    this.denseConfig = model.denseOptimizer.config;
    this.cpu = new TypeScriptBackend(model, dense);
    const shape = { dim: model.dim, maxContext: model.maxFeatures + 2, maxCandidates: model.maxCandidates };
    const dcn = model.dcn;
    this.program = () => (dcn ? dcnProgram({ ...shape, dcn }) : fmProgram(shape));
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
    const plan = this.model.dcn
      ? planDcnBatch(items, this.model.dim, (key) => this.cpu.dcnSlotOf(key), DCN_SLOT_SHIFT, crosses)
      : planFmBatch(items, this.model.dim, this.model.userWeight, crosses);
    try {
      const bias = { bias: this.dense.values[0], accumulator: denseSlots[0], history: history?.state };
      this.kernel ??= acquireGpu().then(async (gpu) => {
        const kernel = await WebGpuLearnKernel.create(gpu, this.program());
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
      // The network's parameters and accumulators, copied: they change in place only once the whole batch succeeded.
      const network = this.networkCopy(denseSlots);
      const out = await (await this.kernel).run(plan, bias, optimizers, network);
      if (out.applied.includes(0)) return undefined;
      if (network) {
        this.dense.values.set(network.values, this.networkOffset);
        denseSlots.set(network.accumulators, this.networkOffset);
      }
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

  /** Where the DCN parameters start in the dense weights. */
  private get networkOffset(): number {
    return denseLayout(this.model).dcnOffset;
  }

  private networkCopy(denseSlots: Float32Array): { values: Float32Array; accumulators: Float32Array } | undefined {
    const count = this.model.dcn?.parameterCount;
    if (!count) return undefined;
    const at = this.networkOffset;
    return { values: this.dense.values.slice(at, at + count), accumulators: denseSlots.slice(at, at + count) };
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
