import { HISTORY_BUCKETS } from '../../../features/action-history-state.js';
import { EVENT_WORDS, LOSS_CODE, MISSING_ROW } from './fm-batch-plan.js';

/** The model's sizes baked into a shader as constants (workgroup arrays need them fixed). */
export interface FmShaderShape {
  readonly dim: number;
  readonly maxContext: number;
  readonly maxCandidates: number;
}

/** Threads of the one workgroup that walks a batch: lanes over row coordinates, candidates and gradient entries. */
export const WORKGROUP_SIZE = 64;

/**
 * The dense buffer, in floats: the bias and its AdaGrad accumulator (then two of padding), the
 * action-history score offsets, then their accumulators.
 */
export const DENSE_FLOATS = 4 + 2 * HISTORY_BUCKETS;
export const HISTORY_AT = 4;

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
  const { dim, maxContext, maxCandidates } = shape;
  return /* wgsl */ `
struct Params {
  eventCount: u32, lossBase: u32, pad1: u32, pad2: u32,
  lr: f32, initAcc: f32, l2: f32, clip: f32,
  denseLr: f32, denseInit: f32, denseL2: f32, denseClip: f32,
  historyLr: f32, historyInit: f32, historyL2: f32, historyClip: f32,
  crossLr: f32, crossInit: f32, crossL2: f32, crossClip: f32,
}
@group(0) @binding(0) var<storage, read_write> values: array<f32>;
@group(0) @binding(1) var<storage, read_write> slots: array<f32>;
@group(0) @binding(2) var<storage, read> events: array<u32>;
@group(0) @binding(3) var<storage, read> refs: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> dense: array<f32>;
@group(0) @binding(5) var<storage, read_write> outs: array<f32>;
@group(0) @binding(6) var<storage, read_write> grads: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;
@group(0) @binding(8) var<storage, read_write> crossValues: array<f32>;

const WG: u32 = ${WORKGROUP_SIZE}u;
const DIM: u32 = ${dim}u;
const RF: u32 = ${dim + 1}u;
const EW: u32 = ${EVENT_WORDS}u;
const MISSING: u32 = ${MISSING_ROW}u;
const HB: u32 = ${HISTORY_BUCKETS}u;
const HAT: u32 = ${HISTORY_AT}u;

var<workgroup> S: array<f32, ${dim}>;
var<workgroup> A: array<f32, ${dim}>;
var<workgroup> scores: array<f32, ${maxCandidates}>;
var<workgroup> dS: array<f32, ${maxCandidates}>;
var<workgroup> ctxNorm: array<f32, ${maxContext}>;
var<workgroup> ctxLin: array<f32, ${maxContext}>;
var<workgroup> wsh: array<f32, 2>;
var<workgroup> bad: atomic<u32>;

fn nonFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }

fn rowValue(r: u32, k: u32) -> f32 {
  if (r == MISSING) { return 0.0; }
  return values[r * RF + k];
}

fn adagrad(at: u32, g0: f32, lr: f32) {
  let g1 = clamp(g0, -params.clip, params.clip);
  let w = values[at];
  let g = g1 + params.l2 * w;
  let acc = slots[at] + g * g;
  slots[at] = acc;
  values[at] = w - (lr * g) / sqrt(acc + params.initAcc);
}

fn softplus(s: f32) -> f32 {
  if (s > 0.0) { return s + log(1.0 + exp(-s)); }
  return log(1.0 + exp(s));
}

fn sigmoid(s: f32) -> f32 {
  if (s >= 0.0) { return 1.0 / (1.0 + exp(-s)); }
  let e = exp(s);
  return e / (1.0 + e);
}

// Lane 0: dLoss/dScore into dS (as losses.ts), the loss into outs; returns G = Σ dS.
fn lossGradient(e: u32, count: u32, kind: u32, index0: u32, value: f32, weight: f32) -> f32 {
  var index = index0;
  if (index == MISSING) {
    index = 0u;
    for (var c = 1u; c < count; c++) { if (scores[c] > scores[index]) { index = c; } }
  }
  for (var c = 0u; c < count; c++) { dS[c] = 0.0; }
  var loss = 0.0;
  let s = scores[index];
  if (kind == ${LOSS_CODE.softmax}u) {
    var top = scores[0];
    for (var c = 1u; c < count; c++) { top = max(top, scores[c]); }
    var psum = 0.0;
    for (var c = 0u; c < count; c++) { psum += exp(scores[c] - top); }
    let logPartition = top + log(psum);
    for (var c = 0u; c < count; c++) { dS[c] = weight * exp(scores[c] - logPartition); }
    dS[index] -= weight;
    loss = weight * (logPartition - s);
  } else if (kind == ${LOSS_CODE.logistic}u) {
    dS[index] = weight * (sigmoid(s) - value);
    loss = weight * (softplus(s) - value * s);
  } else {
    let error = s - value;
    dS[index] = weight * error;
    loss = weight * 0.5 * error * error;
  }
  var total = 0.0;
  for (var c = 0u; c < count; c++) { total += dS[c]; }
  outs[params.lossBase + 2u * e] = loss;
  return total;
}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(local_invocation_index) t: u32) {
  for (var e = 0u; e < params.eventCount; e++) {
    let h = e * EW;
    let ctxStart = events[h];
    let ctxCount = events[h + 1u];
    let candStart = events[h + 2u];
    let candCount = events[h + 3u];
    let linearLr = bitcast<f32>(events[h + 8u]);
    let scoreStart = events[h + 9u];
    let hasHistory = events[h + 10u] != 0u;
    let crossStart = events[h + 11u];
    let perCandidate = events[h + 12u];

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
      if (hasHistory) { s += dense[HAT + rc.y]; }
      for (var f = 0u; f < perCandidate; f++) { s += crossValues[2u * refs[crossStart + c * perCandidate + f].x]; }
      for (var k = 0u; k < DIM; k++) { s += S[k] * rowValue(r, k); }
      scores[c] = s;
      outs[scoreStart + c] = s;
    }
    workgroupBarrier();

    if (t == 0u) {
      let total = lossGradient(e, candCount, events[h + 4u], events[h + 5u], bitcast<f32>(events[h + 6u]), bitcast<f32>(events[h + 7u]));
      wsh[1] = total;
      if (nonFinite(total)) { atomicOr(&bad, 1u); }
    }
    workgroupBarrier();

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
      grads[j] = g;
    }
    storageBarrier();
    workgroupBarrier();

    let ok = atomicLoad(&bad) == 0u;
    if (ok) {
      for (var k = t; k < RF; k += WG) {
        let rate = select(params.lr, linearLr, k == DIM);
        for (var i = 0u; i < ctxCount; i++) {
          let r = refs[ctxStart + i].x;
          if (r != MISSING) { adagrad(r * RF + k, grads[i * RF + k], rate); }
        }
        for (var c = 0u; c < candCount; c++) {
          let r = refs[candStart + c].x;
          if (dS[c] != 0.0 && r != MISSING) { adagrad(r * RF + k, grads[(ctxCount + c) * RF + k], rate); }
        }
      }
    }
    if (t == 0u) {
      if (ok) {
        let g1 = clamp(G, -params.denseClip, params.denseClip);
        let w = dense[0];
        let g = g1 + params.denseL2 * w;
        let acc = dense[1] + g * g;
        dense[1] = acc;
        dense[0] = w - (params.denseLr * g) / sqrt(acc + params.denseInit);
        if (hasHistory) {
          for (var b = 0u; b < HB; b++) {
            var hg = 0.0;
            for (var c = 0u; c < candCount; c++) { if (refs[candStart + c].y == b) { hg += dS[c]; } }
            let hw = dense[HAT + b];
            let hgc = clamp(hg, -params.historyClip, params.historyClip) + params.historyL2 * hw;
            let hacc = dense[HAT + HB + b] + hgc * hgc;
            dense[HAT + HB + b] = hacc;
            dense[HAT + b] = hw - (params.historyLr * hgc) / sqrt(hacc + params.historyInit);
          }
        }
        for (var c = 0u; c < candCount && perCandidate > 0u; c++) {
          let raw = dS[c];
          if (raw == 0.0) { continue; }
          let clipped = clamp(raw, -params.crossClip, params.crossClip);
          for (var f = 0u; f < perCandidate; f++) {
            let at = 2u * refs[crossStart + c * perCandidate + f].x;
            let w = crossValues[at];
            let g = clipped + params.crossL2 * w;
            let acc = crossValues[at + 1u] + g * g;
            crossValues[at + 1u] = acc;
            crossValues[at] = w - (params.crossLr * g) / sqrt(acc + params.crossInit);
          }
        }
      }
      outs[params.lossBase + 2u * e + 1u] = select(0.0, 1.0, ok);
    }
    storageBarrier();
    workgroupBarrier();
  }
}
`;
}
