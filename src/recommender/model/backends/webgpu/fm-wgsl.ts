import { EVENT_HEADER, HISTORY_AND_CROSS_STEPS, LOSS_STEP, sharedWgsl, WORKGROUP_SIZE, type BatchShape } from './shared-wgsl.js';

/** The model's sizes baked into a shader as constants (workgroup arrays need them fixed). */
export type FmShaderShape = BatchShape;

/**
 * The output buffer: every event's candidate scores back to back (event e's from its header's
 * scoreStart), then per event its loss and 1 (applied) or 0 (a gradient was not finite).
 */
export function outputFloats(candidateTotal: number, eventCount: number): number {
  return candidateTotal + 2 * eventCount;
}

/**
 * FM scoring, loss gradient and fused backward + AdaGrad for a whole batch, events strictly in
 * order: one workgroup loops over the events, so each event sees every update of the events
 * before it, exactly as the CPU path does. Per event: S = Σ x_i v_i (one lane per coordinate),
 * the context constant, every candidate's score (one lane per candidate), the loss gradient
 * (lane 0, as losses.ts), all row gradients into scratch (before any row changes, so a row used
 * twice gets the CPU's two steps from the same gradients), then AdaGrad per coordinate lane in
 * the CPU's row order (user, features, judged candidates), and the bias's dense AdaGrad step.
 * An event with action-history buckets (header word 10; each candidate's bucket in its ref's
 * second word) adds its buckets' offsets to the scores and steps all of them, as ModelTask does.
 * An event with candidate cross pairs (header words 11–12) adds each candidate's pair offsets
 * and steps them on lane 0 in the CPU's order (a bucket two pairs share steps twice).
 * Sums run in a fixed order on fixed lanes and no float atomics are used: deterministic.
 */
export function fmLearnShader(shape: FmShaderShape): string {
  const { dim, maxContext } = shape;
  return /* wgsl */ `
${sharedWgsl(shape)}
var<workgroup> S: array<f32, ${dim}>;
var<workgroup> A: array<f32, ${dim}>;
var<workgroup> ctxNorm: array<f32, ${maxContext}>;
var<workgroup> ctxLin: array<f32, ${maxContext}>;

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(local_invocation_index) t: u32) {
  for (var e = 0u; e < params.eventCount; e++) {
${EVENT_HEADER}

    for (var k = t; k < DIM; k += WG) {
      var s = 0.0;
      for (var i = 0u; i < ctxCount; i++) {
        let rf = refs[ctxStart + i];
        s += bitcast<f32>(rf.y) * rowValue(rf.x, k);
      }
      S[k] = s;
    }
    for (var i = t; i < ctxCount; i += WG) {
      let rf = refs[ctxStart + i];
      let x = bitcast<f32>(rf.y);
      var n = 0.0;
      for (var k = 0u; k < DIM; k++) { let v = rowValue(rf.x, k); n += v * v; }
      ctxNorm[i] = x * x * n;
      ctxLin[i] = x * rowValue(rf.x, DIM);
    }
    if (t == 0u) { atomicStore(&bad, 0u); }
    workgroupBarrier();

    if (t == 0u) {
      var lin = 0.0;
      var q = 0.0;
      for (var i = 0u; i < ctxCount; i++) { lin += ctxLin[i]; q += ctxNorm[i]; }
      var ss = 0.0;
      for (var k = 0u; k < DIM; k++) { ss += S[k] * S[k]; }
      wsh[0] = dense[0] + lin + 0.5 * (ss - q);
    }
    workgroupBarrier();

    for (var c = t; c < candCount; c += WG) {
      let rc = refs[candStart + c];
      let r = rc.x;
      var s = wsh[0] + rowValue(r, DIM);
      s += candidateOffsets(c, rc.y, hasHistory, crossStart, perCandidate);
      for (var k = 0u; k < DIM; k++) { s += S[k] * rowValue(r, k); }
      scores[c] = s;
      outs[scoreStart + c] = s;
    }
    workgroupBarrier();

${LOSS_STEP}

    let G = wsh[1];
    for (var k = t; k < DIM; k += WG) {
      var a = 0.0;
      for (var c = 0u; c < candCount; c++) {
        let g = dS[c];
        if (g != 0.0) { a += g * rowValue(refs[candStart + c].x, k); }
      }
      A[k] = a + G * S[k];
    }
    workgroupBarrier();

    let entries = (ctxCount + candCount) * RF;
    for (var j = t; j < entries; j += WG) {
      let i = j / RF;
      let k = j % RF;
      var g = 0.0;
      if (i < ctxCount) {
        let rf = refs[ctxStart + i];
        let x = bitcast<f32>(rf.y);
        if (k < DIM) { g = x * A[k] - x * x * G * rowValue(rf.x, k); } else { g = x * G; }
        if (nonFinite(g)) { atomicOr(&bad, 1u); }
      } else {
        let gc = dS[i - ctxCount];
        if (gc != 0.0) {
          if (k < DIM) { g = gc * S[k]; } else { g = gc; }
          if (nonFinite(g)) { atomicOr(&bad, 1u); }
        }
      }
      scratch[j] = g;
    }
    storageBarrier();
    workgroupBarrier();

    let ok = atomicLoad(&bad) == 0u;
    if (ok) {
      for (var k = t; k < RF; k += WG) {
        let rate = select(params.lr, linearLr, k == DIM);
        for (var i = 0u; i < ctxCount; i++) {
          let r = refs[ctxStart + i].x;
          if (r != MISSING) { adagrad(r * RF + k, scratch[i * RF + k], rate); }
        }
        for (var c = 0u; c < candCount; c++) {
          let r = refs[candStart + c].x;
          if (dS[c] != 0.0 && r != MISSING) { adagrad(r * RF + k, scratch[(ctxCount + c) * RF + k], rate); }
        }
      }
    }
    if (t == 0u) {
      if (ok) {
        denseStep(0u, 1u, G);
${HISTORY_AND_CROSS_STEPS}      }
      outs[params.lossBase + 2u * e + 1u] = select(0.0, 1.0, ok);
    }
    storageBarrier();
    workgroupBarrier();
  }
}
`;
}
