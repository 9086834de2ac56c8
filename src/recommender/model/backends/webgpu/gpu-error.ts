import { AgentrecError } from '../../../../errors.js';

/** The stages of one GPU batch, named in errors and logs so a failure says where it happened. */
export type GpuStep = 'device' | 'compile' | 'upload' | 'dispatch' | 'readback';

/**
 * A WebGPU failure: no adapter or package (GPU_UNAVAILABLE), or a device loss, validation or
 * shader error during a batch (GPU_FAILED). `gpuStep` is the stage that failed.
 */
export class GpuError extends AgentrecError {
  readonly gpuStep: GpuStep;
  constructor(code: 'GPU_UNAVAILABLE' | 'GPU_FAILED', gpuStep: GpuStep, message: string, options: { cause?: unknown } = {}) {
    super(code, `webgpu ${gpuStep}: ${message}`, options);
    this.gpuStep = gpuStep;
  }
}
