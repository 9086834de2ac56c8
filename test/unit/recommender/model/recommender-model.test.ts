import { describe, expect, it } from 'vitest';
import { recommenderModel } from '../../../../src/recommender/model/recommender-model.js';
import { bytesSerde } from '../../../../src/serde/bytes-serde.js';
import { describeTopology } from '../../../../src/topology/describe.js';
import { recordStep } from '../../../../src/topology/step.js';
import { topology } from '../../../../src/topology/topology.js';
import type { StepDefinition } from '../../../../src/topology/types.js';

describe('recommenderModel config', () => {
  it('defaults to FM, AdaGrad rows and AdaGrad dense weights with rows of d + 1 floats', () => {
    const model = recommenderModel({ name: 'rec' });
    expect(model.interaction).toBe('fm');
    expect(model.sparseOptimizer.kind).toBe('adagrad');
    expect(model.denseOptimizer.kind).toBe('adagrad');
    expect(model.rowStore.dim).toBe(33);
    expect(model.stores.map((s) => s.name)).toEqual(['rec', 'rec-requests']);
  });

  it('takes FTRL rows (2 slots), Adam dense weights and DCN layers', () => {
    const model = recommenderModel({
      name: 'rec',
      dim: 8,
      optimizer: { kind: 'ftrl' },
      denseOptimizer: 'adam',
      interaction: 'dcn',
      dcn: { crossLayers: 3, rank: 4 },
    });
    expect(model.rowStore.slotCount).toBe(2);
    expect(model.denseOptimizer.kind).toBe('adam');
    expect(model.dcn?.cross.layers).toBe(3);
    expect(model.dcn?.cross.rank).toBe(4);
  });

  it("backend 'auto' picks wasm-simd only where its fused FM + AdaGrad step covers the model", () => {
    expect(recommenderModel({ name: 'rec' }).backend).toBe('wasm-simd');
    expect(recommenderModel({ name: 'rec', dim: 6 }).backend).toBe('typescript');
    expect(recommenderModel({ name: 'rec', interaction: 'dcn' }).backend).toBe('typescript');
    expect(recommenderModel({ name: 'rec', optimizer: { kind: 'ftrl' } }).backend).toBe('typescript');
    expect(recommenderModel({ name: 'rec', denseInputDim: 16 }).backend).toBe('typescript');
    expect(recommenderModel({ name: 'rec', backend: 'typescript' }).backend).toBe('typescript');
    expect(recommenderModel({ name: 'rec', backend: 'auto' }).backend).toBe('wasm-simd');
  });

  it("backend 'wasm-simd' on a model it cannot run is a ConfigError saying why, at /model/backend", () => {
    expect(() => recommenderModel({ name: 'rec', interaction: 'dcn', backend: 'wasm-simd' })).toThrow(/\/model\/backend.*FM only/);
    expect(() => recommenderModel({ name: 'rec', dim: 6, backend: 'wasm-simd' })).toThrow(/\/model\/backend.*multiple of 4/);
    expect(() => recommenderModel({ name: 'rec', optimizer: { kind: 'ftrl' }, backend: 'wasm-simd' })).toThrow(/\/model\/backend.*AdaGrad/);
    expect(() => recommenderModel({ name: 'rec', backend: 'gpu' as 'typescript' })).toThrow(/\/model\/backend: must be 'auto' or one of/);
  });

  it("takes the older name 'kernel' as an alias, naming it in errors; the two disagreeing is an error", () => {
    expect(recommenderModel({ name: 'rec', kernel: 'typescript' }).backend).toBe('typescript');
    expect(recommenderModel({ name: 'rec', kernel: 'typescript', backend: 'typescript' }).backend).toBe('typescript');
    expect(() => recommenderModel({ name: 'rec', dim: 6, kernel: 'wasm-simd' })).toThrow(/\/model\/kernel.*multiple of 4/);
    expect(() => recommenderModel({ name: 'rec', kernel: 'gpu' as 'typescript' })).toThrow(/\/model\/kernel/);
    const both = () => recommenderModel({ name: 'rec', kernel: 'typescript', backend: 'wasm-simd' });
    expect(both).toThrow(/\/model\/backend.*\/model\/kernel/);
  });

  it('rejects bad settings naming the path', () => {
    expect(() => recommenderModel({ name: 'rec', dim: 0 })).toThrow(/\/model\/dim/);
    expect(() => recommenderModel({ name: 'rec', interaction: 'mlp' as 'fm' })).toThrow(/\/model\/interaction/);
    expect(() => recommenderModel({ name: 'rec', denseOptimizer: 'sgd' as 'adam' })).toThrow(/\/model\/denseOptimizer/);
    expect(() => recommenderModel({ name: 'rec', optimizer: { kind: 'sgd' as 'ftrl' } })).toThrow(/\/model\/optimizer\/kind/);
    expect(() => recommenderModel({ name: 'has space' })).toThrow(/\/model\/name/);
    // The request-id index is a V8 Map (at most 2^24 entries).
    expect(() => recommenderModel({ name: 'rec', maxStoredRequests: 20_000_000 })).toThrow(/\/model\/maxStoredRequests/);
    expect(recommenderModel({ name: 'rec' }).maxStoredRequests).toBe(2_000_000);
  });
});

describe('the model protocol', () => {
  // The steps' record types do not matter to the builder's checks; they are chained untyped here.
  const build = (...steps: StepDefinition<unknown, unknown>[]) => {
    const raw = recordStep<unknown, unknown>('raw', 'raw', () => (v) => v);
    const start = topology('t').from('src', { topic: 'in', partitions: 1 }).step(raw);
    return steps.reduce((b, s) => b.step(s), start).to('out', { topic: 'out', serde: bytesSerde() as never });
  };
  const untyped = (step: unknown) => step as StepDefinition<unknown, unknown>;

  it("the model's steps are lookup, score and learn, in that order, and describe() shows those kinds", () => {
    const model = recommenderModel({ name: 'rec', dim: 8 });
    const t = build(untyped(model.lookup('lookup')), untyped(model.score('score')), untyped(model.learn('learn')));
    expect(describeTopology(t).steps.map((s) => `${s.name}:${s.kind}`)).toEqual(['raw:raw', 'lookup:lookup', 'score:score', 'learn:learn']);
  });

  it('a topology with the steps missing or out of order is refused at .to(), naming the model', () => {
    const model = recommenderModel({ name: 'rec', dim: 8 });
    expect(() => build(untyped(model.lookup('lookup')), untyped(model.score('score')))).toThrow(/model 'rec' .*missing learn/);
    expect(() => build(untyped(model.score('score')), untyped(model.lookup('lookup')), untyped(model.learn('learn')))).toThrow(
      /model 'rec' .*lookup \(step 'lookup'\) comes after score \(step 'score'\)/,
    );
  });
});

describe('encode config', () => {
  it('rejects a field, cross or attribute listed twice (each feature key occurs once per event)', async () => {
    const { encode } = await import('../../../../src/recommender/steps/encode.js');
    expect(() => encode('encode', { fields: ['tool', 'domain', 'tool'] })).toThrow(/\/encode\/fields\/2/);
    expect(() =>
      encode('encode', {
        crosses: [
          ['tool', 'domain'],
          ['tool', 'domain'],
        ],
      }),
    ).toThrow(/\/encode\/crosses\/1/);
    expect(() => encode('encode', { attributes: ['lang', 'lang'] })).toThrow(/\/encode\/attributes\/1/);
  });
});
