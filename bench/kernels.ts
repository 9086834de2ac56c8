/**
 * Learning-kernel throughput, events/s on one core, in one run: each model in plain TypeScript
 * (src/operators/kernels) and the same computation in @tensorflow/tfjs (pure-JS CPU backend, the
 * idiomatic way: gather the event's rows into tensors, tf.grads for the row gradients, a tf.train
 * optimizer for the shared dense weights, write the updated rows back).
 *
 * Event shape: d = 32, user row + 16 sparse feature rows (weight 1), 20 candidate actions; score
 * all candidates, logistic loss on the one shown, AdaGrad on the touched rows (user, features,
 * shown candidate) and, for DCN, on the shared dense weights.
 *   (a) FM (rows carry their linear weight: 33 floats)
 *   (b) DCN-v2, x0 = [user | mean of features | candidate] (96 wide, `fields: []`), 2 cross layers,
 *       full rank and low rank (r = 8), then an MLP 96 → 64 → 1; and TypeScript alone with field slots
 *       (the five TRAJECTORY_DCN_FIELDS, one feature each, the other 11 pooled: x0 = 8 blocks, 256 wide)
 *
 * Before timing, both implementations run the same first events from identical tables and the
 * largest difference of the resulting rows/weights is printed: the two sides compute the same thing.
 *
 *   npx tsx bench/kernels.ts            (BENCH_SECONDS=2 per measurement by default)
 */
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {
  adagradUpdate,
  createDcnScorerWorkspace,
  TRAJECTORY_DCN_FIELDS,
  createFmWorkspace,
  dcnScorerBackward,
  dcnScorerForward,
  fillGaussian,
  fmBackward,
  fmPrepareContext,
  fmRowLength,
  fmScore,
  initDcnScorer,
  logisticLoss,
  resolveAdagradConfig,
  resolveDcnScorer,
  splitmix32,
  type DcnContext,
  type DcnScorerModel,
} from '../src/recommender/model/kernels/index.js';
import { FmSimdKernel } from '../src/recommender/model/backends/wasm-simd/fm-simd.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const DIM = 32;
const FEATURES = 16;
const CANDIDATES = 20;
/**
 * Table sizes. The default spreads an event's 37 rows over ~61k rows (~16 MB with slots), so most
 * row reads miss the CPU caches, as in a real store; HOT_TABLES is a working set that stays in
 * cache, which isolates the arithmetic. TS FM is measured on both; the rest on the default.
 */
interface TableSizes {
  users: number;
  features: number;
  actions: number;
}
const TABLES: TableSizes = { users: 10_000, features: 50_000, actions: 1_000 };
const HOT_TABLES: TableSizes = { users: 500, features: 2_000, actions: 200 };
const EVENTS = 20_000;
const PARITY_EVENTS = 50;
const LEARNING_RATE = 0.05;
const INITIAL_ACCUMULATOR = 0.1;
const GRADIENT_CLIP = 10;
const ROW_CONFIG = resolveAdagradConfig({
  learningRate: LEARNING_RATE,
  initialAccumulator: INITIAL_ACCUMULATOR,
  gradientClip: GRADIENT_CLIP,
});

/** A table as the row store hands rows out: one values and one slots view per row. */
interface Table {
  values: Float32Array[];
  slots: Float32Array[];
}

function createTable(rows: number, rowLength: number, seed: number, factorLength: number): Table {
  const random = splitmix32(seed);
  const valuesBlock = new Float32Array(rows * rowLength);
  const slotsBlock = new Float32Array(rows * rowLength);
  const table: Table = { values: [], slots: [] };
  for (let r = 0; r < rows; r++) {
    const values = valuesBlock.subarray(r * rowLength, (r + 1) * rowLength);
    fillGaussian(values, random, 0.1, 0, factorLength);
    table.values.push(values);
    table.slots.push(slotsBlock.subarray(r * rowLength, (r + 1) * rowLength));
  }
  return table;
}

function cloneTable(table: Table): Table {
  return { values: table.values.map((v) => v.slice()), slots: table.slots.map((s) => s.slice()) };
}

interface Events {
  user: Int32Array;
  features: Int32Array;
  candidates: Int32Array;
  shown: Int32Array;
  label: Float32Array;
}

/** Distinct features and distinct candidates per event, so no row is touched twice by one event. */
function generateEvents(count: number, seed: number, sizes: TableSizes): Events {
  const random = splitmix32(seed);
  const events: Events = {
    user: new Int32Array(count),
    features: new Int32Array(count * FEATURES),
    candidates: new Int32Array(count * CANDIDATES),
    shown: new Int32Array(count),
    label: new Float32Array(count),
  };
  const distinct = (out: Int32Array, at: number, n: number, range: number) => {
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      let id: number;
      do id = random.nextUint32() % range;
      while (seen.has(id));
      seen.add(id);
      out[at + i] = id;
    }
  };
  for (let e = 0; e < count; e++) {
    events.user[e] = random.nextUint32() % sizes.users;
    distinct(events.features, e * FEATURES, FEATURES, sizes.features);
    distinct(events.candidates, e * CANDIDATES, CANDIDATES, sizes.actions);
    events.shown[e] = random.nextUint32() % CANDIDATES;
    events.label[e] = random.nextFloat() < 0.3 ? 1 : 0;
  }
  return events;
}

interface Tables {
  users: Table;
  features: Table;
  actions: Table;
  bias: Float32Array;
  biasSlot: Float32Array;
}

function createTables(rowLength: number, factorLength: number, sizes: TableSizes = TABLES): Tables {
  return {
    users: createTable(sizes.users, rowLength, 1, factorLength),
    features: createTable(sizes.features, rowLength, 2, factorLength),
    actions: createTable(sizes.actions, rowLength, 3, factorLength),
    bias: new Float32Array(1),
    biasSlot: new Float32Array(1),
  };
}

function cloneTables(tables: Tables): Tables {
  return {
    users: cloneTable(tables.users),
    features: cloneTable(tables.features),
    actions: cloneTable(tables.actions),
    bias: tables.bias.slice(),
    biasSlot: tables.biasSlot.slice(),
  };
}

/** Largest |a − b| over the rows the first `count` events touched. */
function maxRowDifference(a: Tables, b: Tables, events: Events, count: number): number {
  let max = 0;
  const compare = (x: Float32Array, y: Float32Array) => {
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  };
  for (let e = 0; e < count; e++) {
    compare(a.users.values[events.user[e]], b.users.values[events.user[e]]);
    for (let f = 0; f < FEATURES; f++)
      compare(a.features.values[events.features[e * FEATURES + f]], b.features.values[events.features[e * FEATURES + f]]);
    for (let c = 0; c < CANDIDATES; c++)
      compare(a.actions.values[events.candidates[e * CANDIDATES + c]], b.actions.values[events.candidates[e * CANDIDATES + c]]);
  }
  compare(a.bias, b.bias);
  return max;
}

type Step = (event: number) => void;

/**
 * Events per second of wall time and per second of this process's CPU time. On a shared machine
 * (other jobs on the same cores) wall time counts the time we were descheduled; CPU time does not,
 * so the CPU figure is the per-core throughput and the wall figure what this run happened to get.
 */
interface Throughput {
  wall: number;
  cpu: number;
}

/** Runs `step` over the events (cyclically) until SECONDS elapse, after a warm-up. */
function throughput(step: Step, warmupEvents: number, seconds = SECONDS): Throughput {
  for (let e = 0; e < warmupEvents; e++) step(e % EVENTS);
  let done = 0;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  do {
    for (let i = 0; i < 64; i++) step((warmupEvents + done + i) % EVENTS);
    done += 64;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < seconds);
  const cpu = process.cpuUsage(cpuStart);
  return { wall: done / elapsed, cpu: done / ((cpu.user + cpu.system) / 1e6) };
}

// ---------------------------------------------------------------- (a) FM

function typescriptFmStep(tables: Tables, events: Events): Step {
  const workspace = createFmWorkspace(DIM);
  const rowLength = fmRowLength(DIM);
  const contextCount = 1 + FEATURES;
  const context: Float32Array[] = new Array(contextCount);
  const contextSlots: Float32Array[] = new Array(contextCount);
  const weights = new Float32Array(contextCount).fill(1);
  const candidates: Float32Array[] = new Array(CANDIDATES);
  const candidateSlots: Float32Array[] = new Array(CANDIDATES);
  const contextGradients = Array.from({ length: contextCount }, () => new Float32Array(rowLength));
  const candidateGradients = Array.from({ length: CANDIDATES }, () => new Float32Array(rowLength));
  const scores = new Float32Array(CANDIDATES);
  const dScores = new Float32Array(CANDIDATES);
  const biasGradient = new Float32Array(1);
  return (e) => {
    context[0] = tables.users.values[events.user[e]];
    contextSlots[0] = tables.users.slots[events.user[e]];
    for (let f = 0; f < FEATURES; f++) {
      const id = events.features[e * FEATURES + f];
      context[1 + f] = tables.features.values[id];
      contextSlots[1 + f] = tables.features.slots[id];
    }
    for (let c = 0; c < CANDIDATES; c++) {
      const id = events.candidates[e * CANDIDATES + c];
      candidates[c] = tables.actions.values[id];
      candidateSlots[c] = tables.actions.slots[id];
    }
    fmPrepareContext(workspace, tables.bias[0], context, weights);
    fmScore(workspace, candidates, scores);
    const shown = events.shown[e];
    logisticLoss(scores, shown, events.label[e], 1, dScores);
    biasGradient[0] = fmBackward(workspace, context, weights, candidates, dScores, contextGradients, candidateGradients);
    for (let i = 0; i < contextCount; i++) adagradUpdate(context[i], contextSlots[i], contextGradients[i], ROW_CONFIG);
    adagradUpdate(candidates[shown], candidateSlots[shown], candidateGradients[shown], ROW_CONFIG);
    adagradUpdate(tables.bias, tables.biasSlot, biasGradient, ROW_CONFIG);
  };
}

/**
 * The same FM step with the WebAssembly SIMD kernel (kernels/wasm/fm-simd.ts): the tables are
 * copied once into the kernel's memory (where its rows live); per event the step writes the
 * rows' offsets, scores, takes the logistic loss in TypeScript, and runs the fused
 * backward + AdaGrad. `copyBack` writes the kernel's rows into `tables` (for the parity check).
 */
function simdFmStep(tables: Tables, events: Events): { step: Step; copyBack: (into: Tables) => void } {
  const rowLength = fmRowLength(DIM);
  const rowBytes = rowLength * 4;
  const allRows = [tables.users, tables.features, tables.actions].reduce((n, t) => n + t.values.length, 0);
  const kernel = new FmSimdKernel(DIM, allRows * rowBytes * 2 + 64 * 1024);
  const place = (table: Table) => {
    const values = kernel.allocate(table.values.length * rowBytes);
    const slots = kernel.allocate(table.values.length * rowBytes);
    const memory = new Float32Array(kernel.memory.buffer);
    table.values.forEach((row, r) => memory.set(row, values / 4 + r * rowLength));
    table.slots.forEach((row, r) => memory.set(row, slots / 4 + r * rowLength));
    return { values, slots };
  };
  const users = place(tables.users);
  const features = place(tables.features);
  const actions = place(tables.actions);
  const contextCount = 1 + FEATURES;
  const rows = kernel.allocate(contextCount * 4);
  const rowSlots = kernel.allocate(contextCount * 4);
  const cands = kernel.allocate(CANDIDATES * 4);
  const candSlots = kernel.allocate(CANDIDATES * 4);
  const weights = kernel.allocate(contextCount * 4);
  const sum = kernel.allocate(DIM * 4);
  const scratch = kernel.allocate(DIM * 4);
  const scoresAt = kernel.allocate(CANDIDATES * 4);
  const dScoresAt = kernel.allocate(CANDIDATES * 4);
  const i32 = new Int32Array(kernel.memory.buffer);
  const f32 = new Float32Array(kernel.memory.buffer);
  f32.fill(1, weights / 4, weights / 4 + contextCount);
  const scores = f32.subarray(scoresAt / 4, scoresAt / 4 + CANDIDATES);
  const dScores = f32.subarray(dScoresAt / 4, dScoresAt / 4 + CANDIDATES);
  const bias = new Float32Array(1);
  const biasSlot = new Float32Array(1);
  const biasGradient = new Float32Array(1);
  bias[0] = tables.bias[0];
  biasSlot[0] = tables.biasSlot[0];
  const { prepare, score } = kernel.exports;
  const step: Step = (e) => {
    const user = events.user[e];
    i32[rows / 4] = users.values + user * rowBytes;
    i32[rowSlots / 4] = users.slots + user * rowBytes;
    for (let f = 0; f < FEATURES; f++) {
      const id = events.features[e * FEATURES + f];
      i32[rows / 4 + 1 + f] = features.values + id * rowBytes;
      i32[rowSlots / 4 + 1 + f] = features.slots + id * rowBytes;
    }
    for (let c = 0; c < CANDIDATES; c++) {
      const id = events.candidates[e * CANDIDATES + c];
      i32[cands / 4 + c] = actions.values + id * rowBytes;
      i32[candSlots / 4 + c] = actions.slots + id * rowBytes;
    }
    const constant = prepare(rows, weights, contextCount, DIM, sum) + bias[0];
    score(cands, CANDIDATES, DIM, sum, constant, scoresAt);
    logisticLoss(scores, events.shown[e], events.label[e], 1, dScores);
    biasGradient[0] = kernel.backwardAdagrad({
      rows,
      rowSlots,
      weights,
      count: contextCount,
      cands,
      candSlots,
      candCount: CANDIDATES,
      dScores: dScoresAt,
      sum,
      scratch,
      config: ROW_CONFIG,
      linearLearningRate: ROW_CONFIG.learningRate,
    });
    adagradUpdate(bias, biasSlot, biasGradient, ROW_CONFIG);
  };
  const copyBack = (into: Tables) => {
    const pairs: [Table, { values: number; slots: number }][] = [
      [into.users, users],
      [into.features, features],
      [into.actions, actions],
    ];
    for (const [table, at] of pairs) {
      table.values.forEach((row, r) => row.set(f32.subarray(at.values / 4 + r * rowLength, at.values / 4 + (r + 1) * rowLength)));
      table.slots.forEach((row, r) => row.set(f32.subarray(at.slots / 4 + r * rowLength, at.slots / 4 + (r + 1) * rowLength)));
    }
    into.bias[0] = bias[0];
    into.biasSlot[0] = biasSlot[0];
  };
  return { step, copyBack };
}

/** AdaGrad on gathered rows as tensor ops; returns [new values, new accumulators]. */
function tfAdagrad(values: tf.Tensor, accumulators: tf.Tensor, gradient: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const g = tf.clipByValue(gradient, -GRADIENT_CLIP, GRADIENT_CLIP);
  const nextAccumulators = accumulators.add(g.square());
  return [values.sub(g.mul(LEARNING_RATE).div(nextAccumulators.add(INITIAL_ACCUMULATOR).sqrt())), nextAccumulators];
}

/** Copies rows into one contiguous buffer (the gather before tf.tensor2d). */
function gather(out: Float32Array, rows: readonly Float32Array[], rowLength: number): void {
  for (let r = 0; r < rows.length; r++) out.set(rows[r].subarray(0, rowLength), r * rowLength);
}

function scatter(source: Float32Array | Int32Array | Uint8Array, rows: readonly Float32Array[], rowLength: number): void {
  for (let r = 0; r < rows.length; r++) rows[r].set(source.subarray(r * rowLength, (r + 1) * rowLength));
}

function tfjsFmStep(tables: Tables, events: Events): Step {
  const rowLength = fmRowLength(DIM);
  const contextCount = 1 + FEATURES;
  const contextBuffer = new Float32Array(contextCount * rowLength);
  const contextSlotBuffer = new Float32Array(contextCount * rowLength);
  const candidateBuffer = new Float32Array(CANDIDATES * rowLength);
  const context: Float32Array[] = new Array(contextCount);
  const contextSlots: Float32Array[] = new Array(contextCount);
  const candidates: Float32Array[] = new Array(CANDIDATES);
  return (e) => {
    context[0] = tables.users.values[events.user[e]];
    contextSlots[0] = tables.users.slots[events.user[e]];
    for (let f = 0; f < FEATURES; f++) {
      const id = events.features[e * FEATURES + f];
      context[1 + f] = tables.features.values[id];
      contextSlots[1 + f] = tables.features.slots[id];
    }
    for (let c = 0; c < CANDIDATES; c++) candidates[c] = tables.actions.values[events.candidates[e * CANDIDATES + c]];
    const shown = events.shown[e];
    const shownId = events.candidates[e * CANDIDATES + shown];
    gather(contextBuffer, context, rowLength);
    gather(contextSlotBuffer, contextSlots, rowLength);
    gather(candidateBuffer, candidates, rowLength);
    const label = events.label[e];
    const updated = tf.tidy(() => {
      const contextRows = tf.tensor2d(contextBuffer, [contextCount, rowLength]);
      const candidateRows = tf.tensor2d(candidateBuffer, [CANDIDATES, rowLength]);
      const bias = tf.scalar(tables.bias[0]);
      const loss = (ctx: tf.Tensor, cand: tf.Tensor, b: tf.Tensor): tf.Scalar => {
        const factors = ctx.slice([0, 0], [-1, DIM]);
        const sum = factors.sum(0);
        const constant = b.add(ctx.slice([0, DIM], [-1, 1]).sum()).add(sum.square().sum().sub(factors.square().sum()).mul(0.5));
        const scores = cand
          .slice([0, 0], [-1, DIM])
          .matMul(sum.reshape([DIM, 1]))
          .reshape([CANDIDATES])
          .add(cand.slice([0, DIM], [-1, 1]).reshape([CANDIDATES]))
          .add(constant);
        const score = scores.slice([shown], [1]);
        return tf.softplus(score).sub(score.mul(label)).sum() as tf.Scalar;
      };
      const [dContext, dCandidates, dBias] = tf.grads(loss)([contextRows, candidateRows, bias]);
      const [contextValues, contextAccumulators] = tfAdagrad(
        contextRows,
        tf.tensor2d(contextSlotBuffer, [contextCount, rowLength]),
        dContext,
      );
      const [candidateValues, candidateAccumulators] = tfAdagrad(
        candidateRows.slice([shown, 0], [1, -1]),
        tf.tensor2d(tables.actions.slots[shownId], [1, rowLength]),
        dCandidates.slice([shown, 0], [1, -1]),
      );
      const [biasValue, biasAccumulator] = tfAdagrad(bias, tf.scalar(tables.biasSlot[0]), dBias);
      return [contextValues, contextAccumulators, candidateValues, candidateAccumulators, biasValue, biasAccumulator];
    });
    const [contextValues, contextAccumulators, candidateValues, candidateAccumulators, biasValue, biasAccumulator] = updated.map((t) =>
      t.dataSync(),
    );
    tf.dispose(updated);
    scatter(contextValues, context, rowLength);
    scatter(contextAccumulators, contextSlots, rowLength);
    tables.actions.values[shownId].set(candidateValues);
    tables.actions.slots[shownId].set(candidateAccumulators);
    tables.bias[0] = biasValue[0];
    tables.biasSlot[0] = biasAccumulator[0];
  };
}

// ---------------------------------------------------------------- (b) DCN-v2

function typescriptDcnStep(model: DcnScorerModel, parameters: Float32Array, tables: Tables, events: Events): Step {
  // Feature f fills field slot f while there are fields; the rest share the last slot (all of them with no fields).
  const fieldSlots = Int32Array.from({ length: FEATURES }, (_, f) => Math.min(f, model.fields.length));
  const workspace = createDcnScorerWorkspace(model, CANDIDATES);
  const denseConfig = ROW_CONFIG;
  const accumulators = new Float32Array(model.parameterCount);
  const parameterGradients = new Float32Array(model.parameterCount);
  const features: Float32Array[] = new Array(FEATURES);
  const featureSlots: Float32Array[] = new Array(FEATURES);
  const candidates: Float32Array[] = new Array(CANDIDATES);
  const featureWeights = new Float32Array(FEATURES).fill(1);
  const context: DcnContext = { user: tables.users.values[0], features, featureWeights, featureSlots: fieldSlots, featureCount: FEATURES };
  const gradients = {
    user: new Float32Array(DIM),
    features: Array.from({ length: FEATURES }, () => new Float32Array(DIM)),
    candidates: Array.from({ length: CANDIDATES }, () => new Float32Array(DIM)),
  };
  const scores = new Float32Array(CANDIDATES);
  const dScores = new Float32Array(CANDIDATES);
  return (e) => {
    const user = events.user[e];
    context.user = tables.users.values[user];
    for (let f = 0; f < FEATURES; f++) {
      const id = events.features[e * FEATURES + f];
      features[f] = tables.features.values[id];
      featureSlots[f] = tables.features.slots[id];
    }
    for (let c = 0; c < CANDIDATES; c++) candidates[c] = tables.actions.values[events.candidates[e * CANDIDATES + c]];
    dcnScorerForward(model, parameters, workspace, context, candidates, scores);
    const shown = events.shown[e];
    logisticLoss(scores, shown, events.label[e], 1, dScores);
    parameterGradients.fill(0);
    dcnScorerBackward(model, parameters, workspace, context, dScores, parameterGradients, gradients, CANDIDATES);
    adagradUpdate(context.user, tables.users.slots[user], gradients.user, ROW_CONFIG);
    for (let f = 0; f < FEATURES; f++) adagradUpdate(features[f], featureSlots[f], gradients.features[f], ROW_CONFIG);
    const shownId = events.candidates[e * CANDIDATES + shown];
    adagradUpdate(candidates[shown], tables.actions.slots[shownId], gradients.candidates[shown], ROW_CONFIG);
    adagradUpdate(parameters, accumulators, parameterGradients, denseConfig);
  };
}

/** The TS flat layout as tf.Variables, so both sides start from identical weights. */
function tfjsDcnVariables(model: DcnScorerModel, parameters: Float32Array, prefix: string): tf.Variable[] {
  const D = model.inputDim;
  const r = model.cross.rank;
  const variables: tf.Variable[] = [];
  const take = (offset: number, shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    variables.push(tf.variable(tf.tensor(parameters.slice(offset, offset + size), shape), true, `${prefix}_${variables.length}`));
    return offset + size;
  };
  for (const offset of model.cross.layerOffsets) {
    let at = offset;
    if (r === 0) at = take(at, [D, D]);
    else at = take(take(at, [D, r]), [D, r]);
    take(at, [D]);
  }
  const { widths, layerOffsets } = model.mlp;
  for (let l = 0; l < layerOffsets.length; l++) {
    take(take(model.mlpOffset + layerOffsets[l], [widths[l + 1], widths[l]]), [widths[l + 1]]);
  }
  return variables;
}

function tfjsDcnStep(model: DcnScorerModel, variables: tf.Variable[], tables: Tables, events: Events): Step {
  const optimizer = tf.train.adagrad(LEARNING_RATE, INITIAL_ACCUMULATOR);
  const crossLayers = model.cross.layers;
  const lowRank = model.cross.rank > 0;
  const perCrossLayer = lowRank ? 3 : 2;
  const featureBuffer = new Float32Array(FEATURES * DIM);
  const featureSlotBuffer = new Float32Array(FEATURES * DIM);
  const candidateBuffer = new Float32Array(CANDIDATES * DIM);
  const features: Float32Array[] = new Array(FEATURES);
  const featureSlots: Float32Array[] = new Array(FEATURES);
  const candidates: Float32Array[] = new Array(CANDIDATES);
  return (e) => {
    const user = events.user[e];
    for (let f = 0; f < FEATURES; f++) {
      const id = events.features[e * FEATURES + f];
      features[f] = tables.features.values[id];
      featureSlots[f] = tables.features.slots[id];
    }
    for (let c = 0; c < CANDIDATES; c++) candidates[c] = tables.actions.values[events.candidates[e * CANDIDATES + c]];
    gather(featureBuffer, features, DIM);
    gather(featureSlotBuffer, featureSlots, DIM);
    gather(candidateBuffer, candidates, DIM);
    const shown = events.shown[e];
    const shownId = events.candidates[e * CANDIDATES + shown];
    const label = events.label[e];
    const updated = tf.tidy(() => {
      const userRow = tf.tensor2d(tables.users.values[user], [1, DIM]);
      const featureRows = tf.tensor2d(featureBuffer, [FEATURES, DIM]);
      const candidateRows = tf.tensor2d(candidateBuffer, [CANDIDATES, DIM]);
      const loss = (...inputs: tf.Tensor[]): tf.Scalar => {
        const [u, f, cand, ...weights] = inputs;
        const x0 = tf.concat([u.tile([CANDIDATES, 1]), f.mean(0, true).tile([CANDIDATES, 1]), cand], 1);
        let x = x0;
        for (let l = 0; l < crossLayers; l++) {
          const w = weights.slice(l * perCrossLayer, (l + 1) * perCrossLayer);
          const crossTerm = lowRank ? x.matMul(w[1]).matMul(w[0], false, true).add(w[2]) : x.matMul(w[0], false, true).add(w[1]);
          x = x0.mul(crossTerm).add(x);
        }
        const mlp = weights.slice(crossLayers * perCrossLayer);
        for (let l = 0; l < mlp.length; l += 2) {
          x = x.matMul(mlp[l], false, true).add(mlp[l + 1]);
          if (l + 2 < mlp.length) x = tf.relu(x);
        }
        const score = x.reshape([CANDIDATES]).slice([shown], [1]);
        return tf.softplus(score).sub(score.mul(label)).sum() as tf.Scalar;
      };
      const grads = tf.grads(loss)([userRow, featureRows, candidateRows, ...variables]);
      optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: grads[3 + i] })));
      const [userValue, userAccumulator] = tfAdagrad(userRow, tf.tensor2d(tables.users.slots[user], [1, DIM]), grads[0]);
      const [featureValues, featureAccumulators] = tfAdagrad(featureRows, tf.tensor2d(featureSlotBuffer, [FEATURES, DIM]), grads[1]);
      const [candidateValue, candidateAccumulator] = tfAdagrad(
        candidateRows.slice([shown, 0], [1, -1]),
        tf.tensor2d(tables.actions.slots[shownId], [1, DIM]),
        grads[2].slice([shown, 0], [1, -1]),
      );
      return [userValue, userAccumulator, featureValues, featureAccumulators, candidateValue, candidateAccumulator];
    });
    const [userValue, userAccumulator, featureValues, featureAccumulators, candidateValue, candidateAccumulator] = updated.map((t) =>
      t.dataSync(),
    );
    tf.dispose(updated);
    tables.users.values[user].set(userValue);
    tables.users.slots[user].set(userAccumulator);
    scatter(featureValues, features, DIM);
    scatter(featureAccumulators, featureSlots, DIM);
    tables.actions.values[shownId].set(candidateValue);
    tables.actions.slots[shownId].set(candidateAccumulator);
  };
}

function maxParameterDifference(model: DcnScorerModel, parameters: Float32Array, variables: tf.Variable[]): number {
  const flat = new Float32Array(model.parameterCount);
  let at = 0;
  // tfjsDcnVariables walks the layout in flat order, so concatenating the variables restores it.
  for (const v of variables) {
    const data = v.dataSync();
    flat.set(data, at);
    at += data.length;
  }
  let max = 0;
  for (let i = 0; i < flat.length; i++) max = Math.max(max, Math.abs(flat[i] - parameters[i]));
  return max;
}

// ---------------------------------------------------------------- run

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const row = (name: string, t: Throughput) =>
  console.log(`    ${name.padEnd(20)}${fmt(t.cpu).padStart(10)} events/s per CPU-second  (${fmt(t.wall)} per wall-second)`);

function report(ts: Throughput, tfjs: Throughput, note = ''): void {
  row('TypeScript kernels', ts);
  if (note) console.log(`    ${note}`);
  row('tfjs (cpu)', tfjs);
  console.log(`    ratio TS / tfjs     ${(ts.cpu / tfjs.cpu).toFixed(1)}× (CPU time), ${(ts.wall / tfjs.wall).toFixed(1)}× (wall)\n`);
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  const events = generateEvents(EVENTS, 7, TABLES);
  const hotEvents = generateEvents(EVENTS, 8, HOT_TABLES);
  console.log(
    `kernels bench — d=${DIM}, user + ${FEATURES} features, ${CANDIDATES} candidates, logistic + AdaGrad; ${SECONDS}s per measurement, tfjs ${tf.version.tfjs} backend '${tf.getBackend()}'`,
  );
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${cpus().length} cores`,
  );
  console.log(
    `node ${process.version}, one thread; tables ${TABLES.users} users, ${TABLES.features} features, ${TABLES.actions} actions\n`,
  );

  // (a) FM
  {
    const base = createTables(fmRowLength(DIM), DIM);
    const tsTables = cloneTables(base);
    const tfTables = cloneTables(base);
    const tsStep = typescriptFmStep(tsTables, events);
    const tfStep = tfjsFmStep(tfTables, events);
    for (let e = 0; e < PARITY_EVENTS; e++) {
      tsStep(e);
      tfStep(e);
    }
    const difference = maxRowDifference(tsTables, tfTables, events, PARITY_EVENTS);
    const simdParity = simdFmStep(base, events);
    for (let e = 0; e < PARITY_EVENTS; e++) simdParity.step(e);
    const simdTables = cloneTables(base);
    simdParity.copyBack(simdTables);
    const simdDifference = maxRowDifference(tsTables, simdTables, events, PARITY_EVENTS);
    const simd = throughput(simdFmStep(base, events).step, 20_000);
    const simdHot = throughput(simdFmStep(createTables(fmRowLength(DIM), DIM, HOT_TABLES), hotEvents).step, 20_000);
    const ts = throughput(typescriptFmStep(base, events), 20_000);
    const tsHot = throughput(typescriptFmStep(createTables(fmRowLength(DIM), DIM, HOT_TABLES), hotEvents), 20_000);
    const tfjs = throughput(tfjsFmStep(cloneTables(base), events), 20, Math.min(SECONDS, 3));
    console.log('(a) FM, score 20 candidates + logistic AdaGrad update of touched rows');
    console.log(`    parity: max |TS − tfjs| over touched rows after ${PARITY_EVENTS} events = ${difference.toExponential(2)}`);
    const hotRows = HOT_TABLES.users + HOT_TABLES.features + HOT_TABLES.actions;
    report(ts, tfjs, `TypeScript, hot ${hotRows}-row working set: ${fmt(tsHot.cpu)} per CPU-second (${fmt(tsHot.wall)} per wall-second)`);
    console.log(
      `    WebAssembly SIMD (kernels/wasm/fm-simd.ts), parity with TS after ${PARITY_EVENTS} events: ${simdDifference.toExponential(2)}`,
    );
    console.log(`    WASM SIMD kernel   ${fmt(simd.cpu).padStart(10)} events/s per CPU-second  (${fmt(simd.wall)} per wall-second)`);
    console.log(`    WASM SIMD, hot ${hotRows}-row working set: ${fmt(simdHot.cpu)} per CPU-second (${fmt(simdHot.wall)} per wall-second)`);
    console.log(`    ratio WASM SIMD / TS  ${(simd.cpu / ts.cpu).toFixed(2)}× (tables), ${(simdHot.cpu / tsHot.cpu).toFixed(2)}× (hot)\n`);
  }

  // (b) DCN-v2
  for (const rank of [0, 8]) {
    const model = resolveDcnScorer({ dim: DIM, crossLayers: 2, rank, hidden: [64], fields: [] });
    const initial = new Float32Array(model.parameterCount);
    initDcnScorer(model, initial, 99);
    const base = createTables(DIM, DIM);
    const tsTables = cloneTables(base);
    const tfTables = cloneTables(base);
    const tsParameters = initial.slice();
    const tfVariables = tfjsDcnVariables(model, initial, `parity_r${rank}`);
    const tsStep = typescriptDcnStep(model, tsParameters, tsTables, events);
    const tfStep = tfjsDcnStep(model, tfVariables, tfTables, events);
    for (let e = 0; e < PARITY_EVENTS; e++) {
      tsStep(e);
      tfStep(e);
    }
    const rowDifference = maxRowDifference(tsTables, tfTables, events, PARITY_EVENTS);
    const weightDifference = maxParameterDifference(model, tsParameters, tfVariables);
    tfVariables.forEach((v) => v.dispose());
    const ts = throughput(typescriptDcnStep(model, initial.slice(), base, events), 500);
    const benchVariables = tfjsDcnVariables(model, initial, `bench_r${rank}`);
    const tfjs = throughput(tfjsDcnStep(model, benchVariables, cloneTables(base), events), 10, Math.min(SECONDS, 3));
    benchVariables.forEach((v) => v.dispose());
    const label = rank === 0 ? 'full rank' : `low rank r=${rank}`;
    console.log(`(b) DCN-v2 ${label}: x0 ${model.inputDim} wide, 2 cross layers + MLP [64], ${model.parameterCount} dense weights`);
    console.log(
      `    parity after ${PARITY_EVENTS} events: rows ${rowDifference.toExponential(2)}, dense weights ${weightDifference.toExponential(2)}`,
    );
    report(ts, tfjs);
    const fielded = resolveDcnScorer({ dim: DIM, crossLayers: 2, rank, hidden: [64], fields: TRAJECTORY_DCN_FIELDS });
    const fieldedInitial = new Float32Array(fielded.parameterCount);
    initDcnScorer(fielded, fieldedInitial, 99);
    const withFields = throughput(typescriptDcnStep(fielded, fieldedInitial, cloneTables(base), events), 500);
    console.log(
      `    with field slots (${fielded.fields.join(', ')}): x0 ${fielded.inputDim} wide, ${fielded.parameterCount} dense weights`,
    );
    row('TypeScript', withFields);
    console.log(`    ratio field slots / pooled  ${(withFields.cpu / ts.cpu).toFixed(2)}× (CPU time)\n`);
  }
}

await main();
