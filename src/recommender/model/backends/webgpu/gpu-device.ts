import { GpuError } from './gpu-error.js';

/** The adapter a device came from, as `backend=auto` and the logs need it. */
export interface GpuAdapterSummary {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, a fallback adapter): correct but no faster than the CPU kernels. */
  readonly software: boolean;
}

export interface GpuContext {
  /**
   * The Dawn instance the device came from. Held for the device's whole life: once the instance
   * is garbage-collected, Dawn tears down under the live device and the process dies (SIGFPE, or
   * glibc's "futex facility returned an unexpected error code").
   */
  readonly instance: GPU;
  readonly device: GPUDevice;
  readonly adapter: GpuAdapterSummary;
  /** Set once the device is lost; the next acquireGpu() creates a new one. */
  lost?: string;
  /** The end of the last batch queued on the device: batches of all tasks run one after another. */
  tail: Promise<unknown>;
}

/**
 * Runs `work` after every batch queued before it on this device: error scopes are a per-device
 * stack, so two tasks' batches interleaving would read each other's errors.
 */
export function exclusive<T>(context: GpuContext, work: () => Promise<T>): Promise<T> {
  const run = context.tail.then(work, work);
  context.tail = run.catch(() => undefined);
  return run;
}

const SOFTWARE_PATTERN = /llvmpipe|lavapipe|swiftshader|software|warp|basic render/i;

/** Whether an adapter is a CPU implementation, from what Dawn reports about it. */
export function isSoftwareAdapter(
  info: { vendor?: string; architecture?: string; description?: string; device?: string },
  fallback = false,
): boolean {
  return fallback || SOFTWARE_PATTERN.test([info.vendor, info.architecture, info.description, info.device].join(' '));
}

let current: Promise<GpuContext> | undefined;
/** The adapter of the last device created, for synchronous callers ('auto'); undefined before the first. */
let lastAdapter: GpuAdapterSummary | undefined;

/** The adapter acquireGpu() found, once it has resolved in this process; undefined before (or without one). */
export function knownAdapter(): GpuAdapterSummary | undefined {
  return lastAdapter;
}

/**
 * The process's one WebGPU device, created on first use: Dawn's instance and device are heavy
 * (threads, a Vulkan instance), and every backend of the process can share one queue's order.
 * After a device loss the next call creates a fresh one. Rejects with GPU_UNAVAILABLE when the
 * optional `webgpu` package or an adapter is missing.
 */
export function acquireGpu(): Promise<GpuContext> {
  if (current) {
    const pending = current;
    return pending.then((context) => {
      if (!context.lost) return context;
      if (current === pending) current = undefined;
      return acquireGpu();
    });
  }
  const created = createContext();
  current = created;
  // A failed creation is not cached: an adapter may appear (driver installed) later in a long process.
  created.catch(() => {
    if (current === created) current = undefined;
  });
  return created;
}

/** The adapter Dawn would give, or undefined (no package, no Vulkan driver); never throws. */
export async function probeGpuAdapter(): Promise<GpuAdapterSummary | undefined> {
  try {
    return (await acquireGpu()).adapter;
  } catch {
    return undefined;
  }
}

async function createContext(): Promise<GpuContext> {
  let gpu: GPU;
  try {
    const module = (await import('webgpu')) as { create(options: string[]): GPU };
    gpu = module.create([]);
  } catch (error) {
    throw new GpuError('GPU_UNAVAILABLE', 'device', `the optional package 'webgpu' did not load (${String(error)})`, { cause: error });
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    const hint = 'no WebGPU adapter: install a Vulkan driver (scripts/install.sh installs Mesa 25 lavapipe from bookworm-backports)';
    throw new GpuError('GPU_UNAVAILABLE', 'device', hint);
  }
  const info = adapter.info;
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const summary: GpuAdapterSummary = {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    software: isSoftwareAdapter(info, fallback),
  };
  // The defaults cap storage buffers at 128 MiB; batches of 16k events with their rows need more on a large model.
  const limits = {
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
  const device = await adapter.requestDevice({ requiredLimits: limits });
  const context: GpuContext = { instance: gpu, device, adapter: summary, tail: Promise.resolve() };
  lastAdapter = summary;
  void device.lost.then((why) => {
    context.lost = `${why.reason}: ${why.message}`;
  });
  return context;
}
