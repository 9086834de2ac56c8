import { describe, expect, it } from 'vitest';
import { resolveBackend } from '../../../../../../src/recommender/model/backends/create-backend.js';
import { recommenderModel } from '../../../../../../src/recommender/model/recommender-model.js';
import { AUTO_MIN_BATCH_EVENTS, webgpuAutoObstacle } from '../../../../../../src/recommender/model/backends/webgpu/webgpu-auto.js';
import { isSoftwareAdapter } from '../../../../../../src/recommender/model/backends/webgpu/gpu-device.js';
import { EVENT_WORDS, MISSING_ROW, planFmBatch } from '../../../../../../src/recommender/model/backends/webgpu/fm-batch-plan.js';
import { fmModel, freshTask, itemsOver, rowsOf, eventShapes } from './webgpu-fixture.js';

const fm = { interaction: 'fm', optimizer: 'adagrad', denseInputDim: 0, dim: 32, candidateTools: false } as const;
const hardware = { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', software: false };
const lavapipe = { vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7', software: true };

describe('backend=webgpu selection', () => {
  it("'auto' takes WebGPU only with a hardware adapter and large batches", () => {
    expect(webgpuAutoObstacle({ batchEvents: 16_384 }, hardware)).toBeUndefined();
    expect(webgpuAutoObstacle({ batchEvents: 16_384 }, lavapipe)).toMatch(/software/);
    expect(webgpuAutoObstacle({ batchEvents: AUTO_MIN_BATCH_EVENTS - 1 }, hardware)).toMatch(/below/);
    expect(webgpuAutoObstacle({}, hardware)).toMatch(/unknown/);
    expect(webgpuAutoObstacle({ batchEvents: 16_384 }, null)).toMatch(/no WebGPU adapter/);
  });

  it("keeps 'auto' on the CPU kernels where no hardware adapter was probed", () => {
    expect(resolveBackend('auto', { ...fm, batchEvents: 16_384 }, '/model/backend')).toBe('wasm-simd');
  });

  it('tells lavapipe and SwiftShader from hardware adapters', () => {
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe (LLVM 15.0.6)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: '', description: 'SwiftShader Device' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: '' }, true)).toBe(true);
  });

  it('refuses a model the WebGPU kernels do not run, naming why', () => {
    expect(resolveBackend('webgpu', fm, '/model/backend')).toBe('webgpu');
    const dcnOf = (options: object) =>
      recommenderModel({ name: 'rec', interaction: 'dcn', backend: 'webgpu', candidateCrosses: false, ...options });
    // The shipped DCN (dim 32, 96-wide x0, MLP [64], 256 candidates) fits the 16 KiB every device offers.
    expect(dcnOf({}).backend).toBe('webgpu');
    // Five field slots make x0 eight blocks wide: 384 floats fit at dim 48, 512 at dim 64 do not.
    const fields = ['prev_action', 'prev2', 'last_outcome', 'tool', 'domain'];
    expect(dcnOf({ dcn: { fields }, dim: 48 }).backend).toBe('webgpu');
    expect(() => dcnOf({ dcn: { fields }, dim: 64 })).toThrow(
      /\/model\/backend.*DCN shader would need 18448 bytes of workgroup memory, more than the 16384/,
    );
    expect(dcnOf({ dcn: { fields }, dim: 64, maxCandidates: 8, backend: 'typescript' }).backend).toBe('typescript');
    expect(() => resolveBackend('webgpu', { ...fm, optimizer: 'ftrl' }, '/model/backend')).toThrow(/ftrl/);
    expect(() => resolveBackend('webgpu', { ...fm, denseInputDim: 16 }, '/model/backend')).toThrow(/denseInputDim/);
    expect(() => resolveBackend('webgpu', { ...fm, denseOptimizerKind: 'adam' }, '/model/backend')).toThrow(/adam/);
  });
});

describe('planFmBatch', () => {
  it('numbers each distinct row once, in first-use order, and leaves no slot set', async () => {
    const model = fmModel(8);
    const rows = await rowsOf(await freshTask(model));
    const items = itemsOver(rows, eventShapes(1, 1, 20, model)[0]);
    const plan = planFmBatch(items, 8);
    const distinct = new Set(items.flatMap(({ event: e }) => [e.user, ...e.features.map((f) => f.row), ...e.candidates].filter(Boolean)));
    expect(plan.rows.length).toBe(distinct.size);
    expect(plan.rows.every((row) => row.backendSlot === -1)).toBe(true);
    plan.rows.forEach((row, r) => expect(Array.from(plan.values.subarray(r * 9, r * 9 + 9))).toEqual(Array.from(row.values)));
    items.forEach(({ event: e }, i) => {
      const h = i * EVENT_WORDS;
      expect(plan.events[h + 1]).toBe(1 + e.features.length);
      expect(plan.events[h + 3]).toBe(e.candidates.length);
      const userRef = plan.refs[2 * plan.events[h]];
      expect(userRef === MISSING_ROW ? undefined : plan.rows[userRef]).toBe(e.user);
      e.candidates.forEach((row, c) => {
        const ref = plan.refs[2 * (plan.events[h + 2] + c)];
        expect(ref === MISSING_ROW ? undefined : plan.rows[ref]).toBe(row);
      });
    });
    expect(plan.candidateTotal).toBe(items.reduce((n, { event }) => n + event.candidates.length, 0));
  });
});
