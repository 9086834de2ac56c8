import type { AdagradConfig } from '../../kernels/optimizers.js';
import type { FmBatchPlan } from './fm-batch-plan.js';
import { dcnLearnShader, dcnScratchFloats, type DcnShaderShape } from './dcn-wgsl.js';
import { fmLearnShader, outputFloats, type FmShaderShape } from './fm-wgsl.js';
import { DENSE_FLOATS, HISTORY_AT } from './shared-wgsl.js';
import { BufferUsage, MapMode } from './gpu-constants.js';
import { exclusive, type GpuContext } from './gpu-device.js';
import { GpuError, type GpuStep } from './gpu-error.js';
import { GrowableBuffer } from './growable-buffer.js';

/** A packed batch without its row objects: what the kernel reads and updates. */
export type KernelBatch = Omit<FmBatchPlan, 'rows'>;

/**
 * The bias and its AdaGrad accumulator, read before and written after the batch; with
 * `history`, the action-history offsets then their accumulators (updated in place).
 */
export interface BiasState {
  bias: number;
  accumulator: number;
  history?: Float32Array;
}

/** The optimizers a batch steps with: rows, the bias, the action-history offsets and the candidate crosses. */
export interface KernelOptimizers {
  readonly sparse: AdagradConfig;
  readonly dense: AdagradConfig;
  readonly history: AdagradConfig;
  /** Absent: the batch has no cross pairs. */
  readonly cross?: AdagradConfig;
}

/** A DCN's network parameters and their AdaGrad accumulators, read before and written after the batch. */
export interface NetworkState {
  readonly values: Float32Array;
  readonly accumulators: Float32Array;
}

/**
 * A learning shader and the sizes of the buffers it needs beyond the batch's own: its scratch,
 * and the network parameters it steps (0 for FM).
 */
export interface KernelProgram {
  readonly label: string;
  readonly code: string;
  readonly scratchBytes: number;
  readonly networkFloats: number;
}

export function fmProgram(shape: FmShaderShape): KernelProgram {
  return {
    label: 'fm learn',
    code: fmLearnShader(shape),
    scratchBytes: (shape.maxContext + shape.maxCandidates) * (shape.dim + 1) * 4,
    networkFloats: 0,
  };
}

export function dcnProgram(shape: DcnShaderShape): KernelProgram {
  return {
    label: 'dcn learn',
    code: dcnLearnShader(shape),
    scratchBytes: dcnScratchFloats(shape) * 4,
    networkFloats: shape.dcn.parameterCount,
  };
}

/** What one batch produced: rows updated in the plan's arrays, and per event its scores, loss and status. */
export interface FmBatchOutput {
  /** Every event's candidate scores (before its own update), back to back in event order. */
  readonly scores: Float32Array;
  readonly losses: Float32Array;
  /** Per event: 1 applied, 0 not (a gradient was not finite; nothing changed for it). */
  readonly applied: Uint8Array;
  readonly bias: BiasState;
  /** Milliseconds in upload + dispatch + readback (the wall time of run()). */
  readonly milliseconds: number;
}

const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;
const PARAM_BYTES = 80;

/**
 * A learning shader (FM or DCN) of one model shape on the process's device, with its buffers:
 * created once, reused by every batch, grown by doubling. run() uploads a packed batch, runs it
 * as one dispatch, and reads back the rows, the bias, the network and the per-event outputs; any
 * device or shader error rejects with a GpuError naming the stage.
 */
export class WebGpuLearnKernel {
  private readonly pipeline: GPUComputePipeline;
  private readonly values: GrowableBuffer;
  private readonly slots: GrowableBuffer;
  private readonly events: GrowableBuffer;
  private readonly refs: GrowableBuffer;
  private readonly outs: GrowableBuffer;
  private readonly crossValues: GrowableBuffer;
  private readonly grads: GPUBuffer;
  private readonly dense: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly readback: GrowableBuffer;
  private readonly paramData = new ArrayBuffer(PARAM_BYTES);
  /** The bias block, then the network's values, accumulators and (zero) gradient. */
  private readonly denseData: Float32Array;
  /** What is read back of it: all but the gradient. */
  private readonly denseReadFloats: number;
  /** The bind group of the current buffers, rebuilt only when one of them grows. */
  private bindGroup?: { group: GPUBindGroup; buffers: GPUBuffer[] };

  private constructor(
    private readonly gpu: GpuContext,
    private readonly program: KernelProgram,
    pipeline: GPUComputePipeline,
  ) {
    const device = gpu.device;
    this.pipeline = pipeline;
    this.denseData = new Float32Array(DENSE_FLOATS + 3 * program.networkFloats);
    this.denseReadFloats = DENSE_FLOATS + 2 * program.networkFloats;
    const label = program.label;
    this.values = new GrowableBuffer(device, STORAGE, `${label} values`);
    this.slots = new GrowableBuffer(device, STORAGE, `${label} slots`);
    this.events = new GrowableBuffer(device, STORAGE, `${label} events`);
    this.refs = new GrowableBuffer(device, STORAGE, `${label} refs`);
    this.outs = new GrowableBuffer(device, STORAGE, `${label} outputs`);
    this.crossValues = new GrowableBuffer(device, STORAGE, `${label} candidate crosses`);
    this.readback = new GrowableBuffer(device, BufferUsage.MAP_READ | BufferUsage.COPY_DST, `${label} readback`);
    this.grads = device.createBuffer({ size: program.scratchBytes, usage: BufferUsage.STORAGE, label: `${program.label} scratch` });
    this.dense = device.createBuffer({ size: this.denseData.byteLength, usage: STORAGE, label: `${program.label} bias and network` });
    this.params = device.createBuffer({ size: PARAM_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: `${label} params` });
  }

  /** Compiles the program's shader; a compilation error rejects with the compiler's messages. */
  static async create(gpu: GpuContext, program: KernelProgram): Promise<WebGpuLearnKernel> {
    const device = gpu.device;
    return guarded(gpu, 'compile', async () => {
      const module = device.createShaderModule({ code: program.code, label: program.label });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length) throw new Error(errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; '));
      // The synchronous call: dawn.node 0.6.2's createComputePipelineAsync aborts the process (std::system_error) on lavapipe.
      const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      return new WebGpuLearnKernel(gpu, program, pipeline);
    });
  }

  /** Runs the batch; the plan's values and slots arrays receive the updated rows, `network` its updated parameters. */
  run(plan: KernelBatch, bias: BiasState, optimizers: KernelOptimizers, network?: NetworkState): Promise<FmBatchOutput> {
    return exclusive(this.gpu, () => this.runNow(plan, bias, optimizers, network));
  }

  private async runNow(plan: KernelBatch, bias: BiasState, optimizers: KernelOptimizers, network?: NetworkState): Promise<FmBatchOutput> {
    const networkFloats = this.program.networkFloats;
    if ((network?.values.length ?? 0) !== networkFloats)
      throw new RangeError(`the ${this.program.label} kernel steps ${networkFloats} network parameters`);
    const started = performance.now();
    const device = this.gpu.device;
    const outFloats = outputFloats(plan.candidateTotal, plan.eventCount);
    const rowBytes = plan.values.byteLength;
    const buffers = await guarded(this.gpu, 'upload', async () => {
      const values = this.values.ensure(rowBytes);
      const slots = this.slots.ensure(rowBytes);
      const events = this.events.ensure(plan.events.byteLength);
      const refs = this.refs.ensure(plan.refs.byteLength);
      const outs = this.outs.ensure(outFloats * 4);
      const crossValues = this.crossValues.ensure(plan.crossValues.byteLength);
      device.queue.writeBuffer(values, 0, plan.values);
      device.queue.writeBuffer(slots, 0, plan.slots);
      device.queue.writeBuffer(events, 0, plan.events);
      device.queue.writeBuffer(refs, 0, plan.refs);
      if (plan.crossValues.length) device.queue.writeBuffer(crossValues, 0, plan.crossValues);
      this.denseData.fill(0);
      this.denseData[0] = bias.bias;
      this.denseData[1] = bias.accumulator;
      if (bias.history) this.denseData.set(bias.history, HISTORY_AT);
      if (network) {
        this.denseData.set(network.values, DENSE_FLOATS);
        this.denseData.set(network.accumulators, DENSE_FLOATS + networkFloats);
      }
      device.queue.writeBuffer(this.dense, 0, this.denseData);
      this.writeParams(plan, optimizers);
      return { values, slots, events, refs, outs, crossValues };
    });
    const crossBytes = plan.crossValues.byteLength;
    const denseBytes = this.denseReadFloats * 4;
    const readBytes = 2 * rowBytes + denseBytes + outFloats * 4 + crossBytes;
    const readback = await guarded(this.gpu, 'dispatch', async () => {
      const bindGroup = this.bindGroupFor([
        buffers.values,
        buffers.slots,
        buffers.events,
        buffers.refs,
        this.dense,
        buffers.outs,
        this.grads,
        this.params,
        buffers.crossValues,
      ]);
      const read = this.readback.ensure(readBytes);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(this.pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(1);
      pass.end();
      encoder.copyBufferToBuffer(buffers.values, 0, read, 0, rowBytes);
      encoder.copyBufferToBuffer(buffers.slots, 0, read, rowBytes, rowBytes);
      encoder.copyBufferToBuffer(this.dense, 0, read, 2 * rowBytes, denseBytes);
      encoder.copyBufferToBuffer(buffers.outs, 0, read, 2 * rowBytes + denseBytes, outFloats * 4);
      if (crossBytes) encoder.copyBufferToBuffer(buffers.crossValues, 0, read, 2 * rowBytes + denseBytes + outFloats * 4, crossBytes);
      device.queue.submit([encoder.finish()]);
      return read;
    });
    // No error scopes around the wait: dawn.node 0.6.2 crashed now and then with scopes open across a mapAsync.
    return unscoped(this.gpu, 'readback', async () => {
      await readback.mapAsync(MapMode.READ, 0, readBytes);
      try {
        const data = new Float32Array(readback.getMappedRange(0, readBytes).slice(0));
        plan.values.set(data.subarray(0, plan.values.length));
        plan.slots.set(data.subarray(plan.values.length, 2 * plan.values.length));
        const at = 2 * plan.values.length;
        const outAt = at + this.denseReadFloats;
        const outs = data.subarray(outAt, outAt + outFloats);
        if (network) {
          network.values.set(data.subarray(at + DENSE_FLOATS, at + DENSE_FLOATS + networkFloats));
          network.accumulators.set(data.subarray(at + DENSE_FLOATS + networkFloats, at + DENSE_FLOATS + 2 * networkFloats));
        }
        const losses = new Float32Array(plan.eventCount);
        const applied = new Uint8Array(plan.eventCount);
        for (let e = 0; e < plan.eventCount; e++) {
          losses[e] = outs[plan.candidateTotal + 2 * e];
          applied[e] = outs[plan.candidateTotal + 2 * e + 1] === 1 ? 1 : 0;
        }
        const scores = outs.slice(0, plan.candidateTotal);
        plan.crossValues.set(data.subarray(outAt + outFloats, outAt + outFloats + plan.crossValues.length));
        const history = bias.history?.slice();
        history?.set(data.subarray(at + HISTORY_AT, at + HISTORY_AT + history.length));
        const state = { bias: data[at], accumulator: data[at + 1], history };
        return { scores, losses, applied, bias: state, milliseconds: performance.now() - started };
      } finally {
        readback.unmap();
      }
    });
  }

  private bindGroupFor(buffers: GPUBuffer[]): GPUBindGroup {
    const cached = this.bindGroup;
    if (cached && cached.buffers.every((b, i) => b === buffers[i])) return cached.group;
    const entries = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    const group = this.gpu.device.createBindGroup({ layout: this.pipeline.getBindGroupLayout(0), entries });
    this.bindGroup = { group, buffers };
    return group;
  }

  private writeParams(plan: KernelBatch, { sparse, dense, history, cross }: KernelOptimizers): void {
    const u32 = new Uint32Array(this.paramData);
    const f32 = new Float32Array(this.paramData);
    u32[0] = plan.eventCount;
    u32[1] = plan.candidateTotal;
    f32.set([sparse.learningRate, sparse.initialAccumulator, sparse.l2, sparse.gradientClip], 4);
    f32.set([dense.learningRate, dense.initialAccumulator, dense.l2, dense.gradientClip], 8);
    f32.set([history.learningRate, history.initialAccumulator, history.l2, history.gradientClip], 12);
    if (cross) f32.set([cross.learningRate, cross.initialAccumulator, cross.l2, cross.gradientClip], 16);
    this.gpu.device.queue.writeBuffer(this.params, 0, this.paramData);
  }
}

/** Runs one stage without error scopes: an exception or a lost device becomes a GpuError naming it. */
async function unscoped<T>(gpu: GpuContext, step: GpuStep, stage: () => Promise<T>): Promise<T> {
  if (gpu.lost) throw new GpuError('GPU_FAILED', step, `device lost (${gpu.lost})`);
  try {
    return await stage();
  } catch (error) {
    const lost = gpu.lost ? `device lost (${gpu.lost}); ` : '';
    throw new GpuError('GPU_FAILED', step, `${lost}${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * Runs one stage inside error scopes: a validation, out-of-memory or internal error Dawn reports
 * for it, a thrown exception or a lost device all become one GpuError naming the stage.
 */
async function guarded<T>(gpu: GpuContext, step: GpuStep, stage: () => Promise<T>): Promise<T> {
  if (gpu.lost) throw new GpuError('GPU_FAILED', step, `device lost (${gpu.lost})`);
  const device = gpu.device;
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('internal');
  let result: T;
  try {
    result = await stage();
  } catch (error) {
    await Promise.allSettled([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]);
    if (error instanceof GpuError) throw error;
    const lost = gpu.lost ? `device lost (${gpu.lost}); ` : '';
    throw new GpuError('GPU_FAILED', step, `${lost}${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const scoped = await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]);
  const failure = scoped.find((e) => e !== null);
  if (failure) throw new GpuError('GPU_FAILED', step, failure.message);
  if (gpu.lost) throw new GpuError('GPU_FAILED', step, `device lost (${gpu.lost})`);
  return result;
}
