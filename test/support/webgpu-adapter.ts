import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GpuAdapterSummary } from '../../src/recommender/model/backends/webgpu/gpu-device.js';

/**
 * The GPU tests run wherever an adapter is found (lavapipe in CI); in CI (CI=true) a missing
 * adapter fails them instead of skipping. AGENTREC_WEBGPU_TESTS=0 turns them off on a machine
 * whose Vulkan driver is broken. The probe runs in a child process, so a test file that only
 * starts GPU processes never loads Dawn into the test worker itself.
 */
export const gpuTestsEnabled = process.env.AGENTREC_WEBGPU_TESTS !== '0';
export const adapter = gpuTestsEnabled ? probeInChild() : undefined;
export const inCi = process.env.CI === 'true';
export const skipGpu = !gpuTestsEnabled || (!adapter && !inCi);

function probeInChild(): GpuAdapterSummary | undefined {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/print-gpu-adapter.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const last = child.stdout?.trim().split('\n').at(-1);
  if (child.status !== 0 || !last) return undefined;
  return (JSON.parse(last) as GpuAdapterSummary | null) ?? undefined;
}
