/**
 * Run by webgpu-instance-lifetime.test.ts under `node --expose-gc`: acquires the process's GPU
 * device, lets every reference but the context go, collects garbage until finalizers have run,
 * then compiles a kernel and runs it. Prints the adapter's description, then "ok".
 */
import { acquireGpu } from '../../src/recommender/model/backends/webgpu/gpu-device.js';
import { fmProgram, WebGpuLearnKernel } from '../../src/recommender/model/backends/webgpu/webgpu-learn-kernel.js';

const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('run with node --expose-gc');
const context = await acquireGpu();
console.log(context.adapter.description);
for (let round = 0; round < 5; round++) {
  collect();
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const kernel = await WebGpuLearnKernel.create(await acquireGpu(), fmProgram({ dim: 8, maxContext: 4, maxCandidates: 4 }));
console.log(kernel ? 'ok' : 'no kernel');
context.device.destroy();
