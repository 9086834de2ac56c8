/** Prints the WebGPU adapter Dawn gives this machine as JSON, or null: webgpu-adapter.ts runs it in a child process. */
import { probeGpuAdapter } from '../../src/recommender/model/backends/webgpu/gpu-device.js';

const adapter = await probeGpuAdapter();
console.log(JSON.stringify(adapter ?? null));
process.exit(0);
