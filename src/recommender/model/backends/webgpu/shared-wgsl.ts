import { HISTORY_BUCKETS } from '../../../features/action-history-state.js';
import { EVENT_WORDS, LOSS_CODE, MISSING_ROW } from './fm-batch-plan.js';

/** Threads of the one workgroup that walks a batch: lanes over row coordinates, candidates and gradient entries. */
export const WORKGROUP_SIZE = 64;

/**
 * The dense buffer, in floats: the bias and its AdaGrad accumulator (then two of padding), the
 * action-history score offsets, then their accumulators (a DCN's network follows: dcn-wgsl.ts).
 */
export const DENSE_FLOATS = 4 + 2 * HISTORY_BUCKETS;
export const HISTORY_AT = 4;

/** The row width and batch bounds every learning shader is compiled for. */
export interface BatchShape {
  readonly dim: number;
  readonly maxContext: number;
  readonly maxCandidates: number;
}

/**
 * What the FM and DCN learning shaders share: the bindings (binding 4 the dense buffer, 6 the
 * kernel's scratch), the constants, the per-event workgroup state, the row AdaGrad step and the
 * loss gradient (lane 0, as losses.ts computes it).
 */
export function sharedWgsl({ dim, maxCandidates }: BatchShape): string {
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
@group(0) @binding(6) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;
@group(0) @binding(8) var<storage, read_write> crossValues: array<f32>;

const WG: u32 = ${WORKGROUP_SIZE}u;
const DIM: u32 = ${dim}u;
const RF: u32 = ${dim + 1}u;
const EW: u32 = ${EVENT_WORDS}u;
const MISSING: u32 = ${MISSING_ROW}u;
const HB: u32 = ${HISTORY_BUCKETS}u;
const HAT: u32 = ${HISTORY_AT}u;

var<workgroup> scores: array<f32, ${maxCandidates}>;
var<workgroup> dS: array<f32, ${maxCandidates}>;
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

// The dense weights' AdaGrad step on dense[at], its accumulator at dense[accAt] (the bias, a DCN's network).
fn denseStep(at: u32, accAt: u32, g0: f32) {
  let g1 = clamp(g0, -params.denseClip, params.denseClip);
  let w = dense[at];
  let g = g1 + params.denseL2 * w;
  let acc = dense[accAt] + g * g;
  dense[accAt] = acc;
  dense[at] = w - (params.denseLr * g) / sqrt(acc + params.denseInit);
}

// Candidate c's action-history offset (its bucket) and candidate-cross offsets, each times its
// pair's feature weight (refs .y), added to its score.
fn candidateOffsets(c: u32, bucket: u32, hasHistory: bool, crossStart: u32, perCandidate: u32) -> f32 {
  var s = 0.0;
  if (hasHistory) { s += dense[HAT + bucket]; }
  for (var f = 0u; f < perCandidate; f++) {
    let pair = refs[crossStart + c * perCandidate + f];
    s += bitcast<f32>(pair.y) * crossValues[2u * pair.x];
  }
  return s;
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
`;
}

/** The header of event e (planFmBatch's EVENT_WORDS), unpacked at the top of the event loop. */
export const EVENT_HEADER = /* wgsl */ `
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
`;

/** Lane 0: the event's loss gradient into dS, its sum into wsh[1], a non-finite sum flagged; then every lane waits. */
export const LOSS_STEP = /* wgsl */ `
    if (t == 0u) {
      let total = lossGradient(e, candCount, events[h + 4u], events[h + 5u], bitcast<f32>(events[h + 6u]), bitcast<f32>(events[h + 7u]));
      wsh[1] = total;
      if (nonFinite(total)) { atomicOr(&bad, 1u); }
    }
    workgroupBarrier();
`;

/**
 * Lane 0, once an event's gradients are known to be finite: the action-history offsets' AdaGrad
 * step (their gradient per bucket is the sum of dLoss/dScore over its candidates) and the
 * candidate crosses' steps, pair by pair in the CPU's candidate-major order.
 */
export const HISTORY_AND_CROSS_STEPS = /* wgsl */ `
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
            let pair = refs[crossStart + c * perCandidate + f];
            let at = 2u * pair.x;
            let w = crossValues[at];
            let g = clipped * bitcast<f32>(pair.y) + params.crossL2 * w;
            let acc = crossValues[at + 1u] + g * g;
            crossValues[at + 1u] = acc;
            crossValues[at] = w - (params.crossLr * g) / sqrt(acc + params.crossInit);
          }
        }
`;
