import { probeGpuAdapter } from '../../src/recommender/model/backends/webgpu/gpu-device.js';

/**
 * The GPU tests run wherever an adapter is found (lavapipe in CI); in CI (CI=true) a missing
 * adapter fails them instead of skipping. AGENTREC_WEBGPU_TESTS=0 turns them off on a machine
 * whose Vulkan driver is broken.
 */
export const gpuTestsEnabled = process.env.AGENTREC_WEBGPU_TESTS !== '0';
export const adapter = gpuTestsEnabled ? await probeGpuAdapter() : undefined;
export const inCi = process.env.CI === 'true';
export const skipGpu = !gpuTestsEnabled || (!adapter && !inCi);
