import type { BackendRequirements } from '../create-backend.js';
import { knownAdapter, type GpuAdapterSummary } from './gpu-device.js';

/**
 * Smallest learning batch 'auto' sends to a GPU: below it the upload, the one dispatch's launch
 * and the readback cost more than the CPU kernels take for the whole batch (a guess until the
 * GPU figures in bench/README.md are measured).
 */
export const AUTO_MIN_BATCH_EVENTS = 4096;

/**
 * Why 'auto' does not take WebGPU for `model`: no adapter known yet (probeGpuAdapter() has
 * not resolved in this process), a software adapter (lavapipe is a CPU
 * implementation: slower than the WASM SIMD kernel), or batches too small or of unknown size.
 */
export function webgpuAutoObstacle(
  model: Pick<BackendRequirements, 'batchEvents'>,
  /** null: none (an explicit undefined takes the probed one, as the default does). */
  adapter: GpuAdapterSummary | null | undefined = knownAdapter(),
): string | undefined {
  if (!adapter) return 'no WebGPU adapter found';
  if (adapter.software) return `the adapter is a software one (${adapter.description || adapter.architecture})`;
  const events = model.batchEvents ?? 0;
  if (events < AUTO_MIN_BATCH_EVENTS) return `batches of ${events || 'unknown'} events are below ${AUTO_MIN_BATCH_EVENTS}`;
  return undefined;
}
