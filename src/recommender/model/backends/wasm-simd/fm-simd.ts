import { ConfigError } from '../../../../errors.js';
import type { AdagradConfig } from '../../kernels/optimizers.js';
import {
  assembleModule,
  Code,
  F32,
  I32,
  instantiate,
  V128,
  validates,
  type FunctionDefinition,
  type WasmMemory,
} from './wasm-assembler.js';

/**
 * The FM kernel (fm.ts: context sums, candidate scores, backward) fused with the AdaGrad row
 * update, in WebAssembly SIMD: four f32 lanes per instruction, including the square root and the
 * division AdaGrad needs per coordinate, which bound the TypeScript kernel (sqrt and div in
 * float64; see bench/README.md, "Learning kernels"). Same math and row layout as fm.ts
 * (`dim` factors then the linear weight; AdaGrad slots beside them), in float32 throughout, so
 * results match the TypeScript kernel to float32 rounding, not bit for bit.
 *
 * Rows live in the kernel's own linear memory and are passed by byte offset (tables allocated
 * with `allocate`), so nothing is copied per event. `dim` must be a multiple of 4.
 *
 * Exported functions (offsets are byte offsets into `memory`; `rows`/`slots`/`cands` point at
 * arrays of i32 row offsets):
 *   prepare(rows, weights, count, dim, sum) → f32    S into `sum`; returns Σ x_i w_i + ½(‖S‖² − Q)
 *   score(cands, count, dim, sum, constant, scores)   scores[c] = constant + w_c + ⟨S, a_c⟩
 *   backwardAdagrad(rows, rowSlots, weights, count, cands, candSlots, candCount, dScores, dim,
 *                   sum, scratch, lr, acc0, l2, clip, linearLr) → f32
 *       applies AdaGrad to every context row and every candidate with dScores[c] ≠ 0 (gradients as
 *       in fmBackward; factors at lr, linear weights at linearLr) and returns dLoss/dBias for the
 *       caller's bias update.
 *   gradientsFinite(same parameters) → i32
 *       1 when every gradient backwardAdagrad would apply (before clipping) and dLoss/dBias are
 *       finite, else 0; changes no row. The fused update cannot be rolled back, so callers that
 *       must reject non-finite updates ask first. Generated from the same code as
 *       backwardAdagrad, so the two cannot disagree on what the gradients are.
 */
/** backwardAdagrad and gradientsFinite take the same arguments (offsets, then AdaGrad's settings). */
type BackwardFunction = (
  rows: number,
  rowSlots: number,
  weights: number,
  count: number,
  cands: number,
  candSlots: number,
  candCount: number,
  dScores: number,
  dim: number,
  sum: number,
  scratch: number,
  lr: number,
  acc0: number,
  l2: number,
  clip: number,
  linearLr: number,
) => number;

export interface FmSimdExports {
  prepare(rows: number, weights: number, count: number, dim: number, sum: number): number;
  score(cands: number, count: number, dim: number, sum: number, constant: number, scores: number): void;
  backwardAdagrad: BackwardFunction;
  gradientsFinite: BackwardFunction;
}

export class FmSimdKernel {
  readonly exports: FmSimdExports;
  readonly memory: WasmMemory;
  private next = 16;

  /** `bytes`: the linear memory to reserve for tables and per-event scratch. */
  constructor(
    readonly dim: number,
    bytes: number,
  ) {
    if (!Number.isInteger(dim) || dim <= 0 || dim % 4 !== 0)
      throw new ConfigError('/dim', `the SIMD FM kernel needs a dim that is a multiple of 4, got ${dim}`);
    const pages = Math.ceil(bytes / 65536) + 1;
    const exports = instantiate(fmSimdModule(pages));
    this.memory = exports.memory as WasmMemory;
    this.exports = exports as unknown as FmSimdExports;
  }

  /** True where the runtime compiles WebAssembly SIMD (Node ≥ 16.4 does). */
  static supported(): boolean {
    try {
      return validates(fmSimdModule(1));
    } catch {
      return false;
    }
  }

  /** Reserves `bytes` (16-byte aligned) of linear memory; returns the byte offset. */
  allocate(bytes: number): number {
    const at = this.next;
    this.next = Math.ceil((at + bytes) / 16) * 16;
    if (this.next > this.memory.buffer.byteLength)
      throw new RangeError(`FmSimdKernel: ${this.next} bytes needed, ${this.memory.buffer.byteLength} reserved`);
    return at;
  }

  /** Makes the linear memory at least `bytes` long (views of the old buffer must be rebuilt). */
  ensureCapacity(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    // At least double, so a batch that keeps placing rows grows the memory O(log n) times.
    if (bytes > have) this.memory.grow(Math.ceil(Math.max(bytes - have, have) / 65536));
  }

  /** AdaGrad step (fused into backwardAdagrad) with `call.config`; returns dLoss/dBias. */
  backwardAdagrad(call: BackwardCall): number {
    return this.backward(this.exports.backwardAdagrad, call);
  }

  /** Whether backwardAdagrad with the same call would apply only finite gradients. */
  gradientsFinite(call: BackwardCall): boolean {
    return this.backward(this.exports.gradientsFinite, call) === 1;
  }

  private backward(fn: BackwardFunction, c: BackwardCall): number {
    const config = c.config;
    return fn(
      c.rows,
      c.rowSlots,
      c.weights,
      c.count,
      c.cands,
      c.candSlots,
      c.candCount,
      c.dScores,
      this.dim,
      c.sum,
      c.scratch,
      config.learningRate,
      config.initialAccumulator,
      config.l2,
      config.gradientClip,
      c.linearLearningRate,
    );
  }
}

/**
 * Arguments of FmSimdKernel's backward wrappers: offsets as in the exports, `dim` and AdaGrad's
 * settings filled in. An object the caller keeps and updates per event (counts), so a call
 * allocates nothing — per feedback, rest and spread argument lists did.
 */
export interface BackwardCall {
  rows: number;
  rowSlots: number;
  weights: number;
  count: number;
  cands: number;
  candSlots: number;
  candCount: number;
  dScores: number;
  sum: number;
  scratch: number;
  config: AdagradConfig;
  /** AdaGrad's rate for the rows' linear weights on this update (config.learningRate for the factors). */
  linearLearningRate: number;
}

// Local indices are named per function: parameters first, then the declared locals.
function prepareFunction(): FunctionDefinition {
  const [ROWS, WEIGHTS, COUNT, DIM, SUM] = [0, 1, 2, 3, 4];
  const [DB, I, K, ROW] = [5, 6, 7, 8];
  const [X, LIN, Q] = [9, 10, 11];
  const [XV, NORM, V, ACC] = [12, 13, 14, 15];
  const c = new Code();
  c.get(DIM).i32(2).i32Shl().set(DB);
  c.i32(0).set(K).loop().get(SUM).get(K).i32Add().v128Zero().v128Store().repeatWhileBelow(K, 16, DB);
  c.f32(0).set(LIN).f32(0).set(Q).i32(0).set(I);
  c.block().get(COUNT).i32Eqz().brIf(0).loop();
  {
    c.elementAddress(ROWS, I).i32Load().set(ROW);
    c.elementAddress(WEIGHTS, I).f32Load().tee(X).f32x4Splat().set(XV);
    c.v128Zero().set(NORM).i32(0).set(K);
    c.loop();
    c.get(ROW).get(K).i32Add().v128Load().set(V);
    c.get(SUM).get(K).i32Add().get(SUM).get(K).i32Add().v128Load().get(XV).get(V).f32x4Mul().f32x4Add().v128Store();
    c.get(NORM).get(V).get(V).f32x4Mul().f32x4Add().set(NORM);
    c.repeatWhileBelow(K, 16, DB);
    c.get(Q).get(X).get(X).f32Mul().horizontalSum(NORM).f32Mul().f32Add().set(Q);
    c.get(LIN).get(X).get(ROW).get(DB).i32Add().f32Load().f32Mul().f32Add().set(LIN);
    c.repeatWhileBelow(I, 1, COUNT);
  }
  c.end();
  c.v128Zero().set(ACC).i32(0).set(K);
  c.loop().get(SUM).get(K).i32Add().v128Load().tee(V).get(V).f32x4Mul().get(ACC).f32x4Add().set(ACC);
  c.repeatWhileBelow(K, 16, DB);
  c.get(LIN).f32(0.5).horizontalSum(ACC).get(Q).f32Sub().f32Mul().f32Add();
  return {
    name: 'prepare',
    params: [I32, I32, I32, I32, I32],
    results: [F32],
    locals: [I32, I32, I32, I32, F32, F32, F32, V128, V128, V128, V128],
    body: c,
  };
}

function scoreFunction(): FunctionDefinition {
  const [CANDS, COUNT, DIM, SUM, CONSTANT, SCORES] = [0, 1, 2, 3, 4, 5];
  const [DB, C, K, ROW, ACC] = [6, 7, 8, 9, 10];
  const c = new Code();
  c.get(DIM).i32(2).i32Shl().set(DB).i32(0).set(C);
  c.block().get(COUNT).i32Eqz().brIf(0).loop();
  c.elementAddress(CANDS, C).i32Load().set(ROW);
  c.v128Zero().set(ACC).i32(0).set(K);
  c.loop().get(SUM).get(K).i32Add().v128Load().get(ROW).get(K).i32Add().v128Load().f32x4Mul().get(ACC).f32x4Add().set(ACC);
  c.repeatWhileBelow(K, 16, DB);
  c.elementAddress(SCORES, C).get(CONSTANT).get(ROW).get(DB).i32Add().f32Load().f32Add().horizontalSum(ACC).f32Add().f32Store();
  c.repeatWhileBelow(C, 1, COUNT).end();
  return { name: 'score', params: [I32, I32, I32, I32, F32, I32], results: [], locals: [I32, I32, I32, I32, V128], body: c };
}

/**
 * backwardAdagrad, or with `check` its twin gradientsFinite: the same gradient computation, where
 * each AdaGrad step is replaced by flagging a non-finite gradient.
 */
function backwardFunction(check: boolean): FunctionDefinition {
  const [ROWS, ROW_SLOTS, WEIGHTS, COUNT, CANDS, CAND_SLOTS, CAND_COUNT, DSCORES, DIM, SUM, SCRATCH, LR, ACC0, L2, CLIP, LINEAR_LR] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  ];
  const [DB, I, K, ROW, SLOT, BAD] = [16, 17, 18, 19, 20, 21];
  const [G, TOTAL, GS, WS, AS, NCLIP] = [22, 23, 24, 25, 26, 27];
  const [GV, LRV, ACC0V, L2V, CLIPV, NCLIPV, GRAD, W, ACCV, SELFV, XV, BADV] = [28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39];
  const c = new Code();
  // AdaGrad on the 4 coordinates at ROW+K / SLOT+K with gradient GRAD (clip, l2, acc, step).
  const adagradVector = () => {
    if (check) {
      c.flagNonFinite(GRAD, BADV, W);
      return;
    }
    c.get(ROW).get(K).i32Add().v128Load().set(W);
    c.get(GRAD).get(NCLIPV).f32x4Max().get(CLIPV).f32x4Min().get(L2V).get(W).f32x4Mul().f32x4Add().set(GRAD);
    c.get(SLOT).get(K).i32Add().get(SLOT).get(K).i32Add().v128Load().get(GRAD).get(GRAD).f32x4Mul().f32x4Add().tee(ACCV).v128Store();
    c.get(ROW)
      .get(K)
      .i32Add()
      .get(W)
      .get(LRV)
      .get(GRAD)
      .f32x4Mul()
      .get(ACCV)
      .get(ACC0V)
      .f32x4Add()
      .f32x4Sqrt()
      .f32x4Div()
      .f32x4Sub()
      .v128Store();
  };
  // The same on the linear weight at ROW+DB with gradient GS.
  const adagradLinear = () => {
    if (check) {
      c.get(GS).get(GS).f32Sub().tee(WS).get(WS).f32Ne().get(BAD).i32Or().set(BAD);
      return;
    }
    c.get(ROW).get(DB).i32Add().f32Load().set(WS);
    c.get(GS).get(NCLIP).f32Max().get(CLIP).f32Min().get(L2).get(WS).f32Mul().f32Add().set(GS);
    c.get(SLOT).get(DB).i32Add().get(SLOT).get(DB).i32Add().f32Load().get(GS).get(GS).f32Mul().f32Add().tee(AS).f32Store();
    c.get(ROW).get(DB).i32Add().get(WS).get(LINEAR_LR).get(GS).f32Mul().get(AS).get(ACC0).f32Add().f32Sqrt().f32Div().f32Sub().f32Store();
  };

  c.get(DIM).i32(2).i32Shl().set(DB);
  c.get(LR).f32x4Splat().set(LRV).get(ACC0).f32x4Splat().set(ACC0V).get(L2).f32x4Splat().set(L2V).get(CLIP).f32x4Splat().set(CLIPV);
  c.f32(0).get(CLIP).f32Sub().tee(NCLIP).f32x4Splat().set(NCLIPV);
  c.i32(0).set(K).loop().get(SCRATCH).get(K).i32Add().v128Zero().v128Store();
  c.repeatWhileBelow(K, 16, DB);
  c.f32(0).set(TOTAL);

  // 1. A = Σ g_c a_c (into scratch) and G = Σ g_c, from the candidates' values before any update.
  c.i32(0).set(I).block().get(CAND_COUNT).i32Eqz().brIf(0).loop();
  c.elementAddress(DSCORES, I).f32Load().tee(G).f32(0).f32Ne().if();
  c.get(G).f32x4Splat().set(GV);
  c.elementAddress(CANDS, I).i32Load().set(ROW);
  c.i32(0).set(K).loop();
  c.get(SCRATCH)
    .get(K)
    .i32Add()
    .get(SCRATCH)
    .get(K)
    .i32Add()
    .v128Load()
    .get(GV)
    .get(ROW)
    .get(K)
    .i32Add()
    .v128Load()
    .f32x4Mul()
    .f32x4Add()
    .v128Store();
  c.repeatWhileBelow(K, 16, DB);
  c.get(TOTAL).get(G).f32Add().set(TOTAL);
  c.end();
  c.repeatWhileBelow(I, 1, CAND_COUNT).end();

  // 2. Judged candidates: da_c = g_c S, dw_c = g_c.
  c.i32(0).set(I).block().get(CAND_COUNT).i32Eqz().brIf(0).loop();
  c.elementAddress(DSCORES, I).f32Load().tee(G).f32(0).f32Ne().if();
  c.get(G).f32x4Splat().set(GV);
  c.elementAddress(CANDS, I).i32Load().set(ROW);
  c.elementAddress(CAND_SLOTS, I).i32Load().set(SLOT);
  c.i32(0).set(K).loop();
  c.get(GV).get(SUM).get(K).i32Add().v128Load().f32x4Mul().set(GRAD);
  adagradVector();
  c.repeatWhileBelow(K, 16, DB);
  c.get(G).set(GS);
  adagradLinear();
  c.end();
  c.repeatWhileBelow(I, 1, CAND_COUNT).end();

  // 3. scratch = G·S + A, the bracket shared by every context row.
  c.get(TOTAL).f32x4Splat().set(GV).i32(0).set(K).loop();
  c.get(SCRATCH)
    .get(K)
    .i32Add()
    .get(SCRATCH)
    .get(K)
    .i32Add()
    .v128Load()
    .get(GV)
    .get(SUM)
    .get(K)
    .i32Add()
    .v128Load()
    .f32x4Mul()
    .f32x4Add()
    .v128Store();
  c.repeatWhileBelow(K, 16, DB);

  // 4. Context rows: dv_i = x_i·scratch − x_i²·G·v_i, dw_i = x_i·G.
  c.i32(0).set(I).block().get(COUNT).i32Eqz().brIf(0).loop();
  c.elementAddress(WEIGHTS, I).f32Load().tee(G).f32x4Splat().set(XV);
  c.get(G).get(G).f32Mul().get(TOTAL).f32Mul().f32x4Splat().set(SELFV);
  c.elementAddress(ROWS, I).i32Load().set(ROW);
  c.elementAddress(ROW_SLOTS, I).i32Load().set(SLOT);
  c.i32(0).set(K).loop();
  c.get(XV)
    .get(SCRATCH)
    .get(K)
    .i32Add()
    .v128Load()
    .f32x4Mul()
    .get(SELFV)
    .get(ROW)
    .get(K)
    .i32Add()
    .v128Load()
    .f32x4Mul()
    .f32x4Sub()
    .set(GRAD);
  adagradVector();
  c.repeatWhileBelow(K, 16, DB);
  c.get(G).get(TOTAL).f32Mul().set(GS);
  adagradLinear();
  c.repeatWhileBelow(I, 1, COUNT).end();
  if (check) {
    c.get(TOTAL).get(TOTAL).f32Sub().tee(WS).get(WS).f32Ne().get(BAD).i32Or().get(BADV).v128AnyTrue().i32Or().i32Eqz();
  } else {
    c.get(TOTAL);
  }

  return {
    name: check ? 'gradientsFinite' : 'backwardAdagrad',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32],
    results: [check ? I32 : F32],
    locals: [
      I32,
      I32,
      I32,
      I32,
      I32,
      I32,
      F32,
      F32,
      F32,
      F32,
      F32,
      F32,
      V128,
      V128,
      V128,
      V128,
      V128,
      V128,
      V128,
      V128,
      V128,
      V128,
      V128,
      V128,
    ],
    body: c,
  };
}

let cachedModules: Map<number, Uint8Array> | undefined;

function fmSimdModule(pages: number): Uint8Array {
  cachedModules ??= new Map();
  let bytes = cachedModules.get(pages);
  if (!bytes)
    cachedModules.set(
      pages,
      (bytes = assembleModule([prepareFunction(), scoreFunction(), backwardFunction(false), backwardFunction(true)], pages)),
    );
  return bytes;
}
