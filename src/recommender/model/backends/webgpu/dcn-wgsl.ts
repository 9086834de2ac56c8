import type { DcnScorerModel } from '../../kernels/dcn-scorer.js';
import {
  DENSE_FLOATS,
  EVENT_HEADER,
  HISTORY_AND_CROSS_STEPS,
  LOSS_STEP,
  sharedWgsl,
  WORKGROUP_SIZE,
  type BatchShape,
} from './shared-wgsl.js';

/** The model's sizes baked into the DCN shader: its network, the row width and the batch bounds. */
export interface DcnShaderShape extends BatchShape {
  readonly dcn: DcnScorerModel;
}

/** Bits of a packed feature ref below its slot: a batch holds fewer distinct rows than this. */
export const DCN_SLOT_SHIFT = 24;

/** Workgroup memory every WebGPU device offers (maxComputeWorkgroupStorageSize's guaranteed minimum). */
export const MAX_WORKGROUP_BYTES = 16_384;

/**
 * Workgroup memory the DCN shader declares: the scores and their gradients, x0's context and five
 * gradient arrays of inputDim floats, the low-rank projection's gradient, two MLP deltas of the
 * widest layer, and the shared scalars.
 */
export function dcnWorkgroupBytes(dcn: DcnScorerModel, maxCandidates: number): number {
  const widest = Math.max(...dcn.mlp.widths);
  return 4 * (2 * maxCandidates + 6 * dcn.inputDim + Math.max(dcn.cross.rank, 1) + 2 * widest + 2 + 1);
}

/** Floats of one candidate's forward intermediates: x_0…x_L, the cross terms, the low-rank projections, the MLP's activations. */
function activationFloats(dcn: DcnScorerModel): number {
  const { inputDim: d, layers, rank } = dcn.cross;
  return (layers + 1) * d + layers * d + Math.max(layers * rank, 1) + dcn.mlp.widths.reduce((a, b) => a + b, 0);
}

/** The scratch buffer, in floats: every context and candidate row's gradient, then each candidate's intermediates. */
export function dcnScratchFloats(shape: DcnShaderShape): number {
  return (shape.maxContext + shape.maxCandidates) * (shape.dim + 1) + shape.maxCandidates * activationFloats(shape.dcn);
}

/**
 * DCN-v2 scoring, loss gradient and backward + AdaGrad for a whole batch, events strictly in
 * order in one workgroup, as fmLearnShader does for FM and with the same buffers' roles (binding 4
 * also holds the network), so each
 * event sees the updates of the events before it, exactly as the CPU path (dcn-scorer.ts). Per
 * event: x0's context blocks (user, each field slot's mean, the rest), then per candidate its
 * block, the cross layers (full or low rank) and the MLP, lanes over coordinates; the loss
 * gradient on lane 0; per candidate with a non-zero gradient the MLP and cross backward, lanes
 * over parameters (each lane owns its parameters' gradient sums, so no atomics) and over
 * coordinates; then AdaGrad on the rows (user, features, judged candidates, in the CPU's order),
 * on every network parameter and the bias, and the action-history and candidate-cross steps.
 * A feature ref packs its slot above DCN_SLOT_SHIFT and carries its weight already divided by the
 * slot's row count. Fixed lanes, fixed order: deterministic.
 */
export function dcnLearnShader(shape: DcnShaderShape): string {
  const { dim, maxContext, maxCandidates, dcn } = shape;
  const { inputDim: D, layers: L, rank: R } = dcn.cross;
  const layerSize = L > 0 ? dcn.cross.parameterCount / L : 0;
  const widths = dcn.mlp.widths;
  const widest = Math.max(...widths);
  const xAt = 0;
  const yAt = (L + 1) * D;
  const hAt = yAt + L * D;
  const mAt = hAt + Math.max(L * R, 1);
  const mlpLayers = widths.length - 1;
  const rowGradFloats = (maxContext + maxCandidates) * (dim + 1);
  const NP = DENSE_FLOATS;
  const P = dcn.parameterCount;
  const activationsOf = (l: number) => mAt + widths.slice(0, l).reduce((a, b) => a + b, 0);
  const mlpLayerAt = (l: number) => dcn.mlpOffset + dcn.mlp.layerOffsets[l];

  const crossForward = Array.from({ length: L }, (_, l) => {
    const base = l * layerSize;
    const xl = xAt + l * D;
    const next = xl + D;
    const yl = yAt + l * D;
    const project =
      R === 0
        ? `
    for (var i = t; i < D; i += WG) {
      var s = dense[NP + ${base + D * D}u + i];
      for (var j = 0u; j < D; j++) { s += dense[NP + ${base}u + i * D + j] * scratch[act + ${xl}u + j]; }
      scratch[act + ${yl}u + i] = s;
    }`
        : `
    for (var k = t; k < R; k += WG) {
      var s = 0.0;
      for (var j = 0u; j < D; j++) { s += dense[NP + ${base + D * R}u + j * R + k] * scratch[act + ${xl}u + j]; }
      scratch[act + ${hAt + l * R}u + k] = s;
    }
    storageBarrier();
    workgroupBarrier();
    for (var i = t; i < D; i += WG) {
      var s = dense[NP + ${base + 2 * D * R}u + i];
      for (var k = 0u; k < R; k++) { s += dense[NP + ${base}u + i * R + k] * scratch[act + ${hAt + l * R}u + k]; }
      scratch[act + ${yl}u + i] = s;
    }`;
    return `${project}
    storageBarrier();
    workgroupBarrier();
    for (var i = t; i < D; i += WG) {
      scratch[act + ${next}u + i] = scratch[act + i] * scratch[act + ${yl}u + i] + scratch[act + ${xl}u + i];
    }
    storageBarrier();
    workgroupBarrier();`;
  }).join('');

  const mlpForward = Array.from({ length: mlpLayers }, (_, l) => {
    const fanIn = widths[l];
    const fanOut = widths[l + 1];
    const w = mlpLayerAt(l);
    const relu = l < mlpLayers - 1;
    return `
    for (var o = t; o < ${fanOut}u; o += WG) {
      var s = dense[NP + ${w + fanIn * fanOut}u + o];
      for (var i = 0u; i < ${fanIn}u; i++) { s += dense[NP + ${w}u + o * ${fanIn}u + i] * scratch[act + ${activationsOf(l)}u + i]; }
      ${relu ? 'if (s < 0.0) { s = 0.0; }' : ''}
      scratch[act + ${activationsOf(l + 1)}u + o] = s;
    }
    storageBarrier();
    workgroupBarrier();`;
  }).join('');

  const mlpBackward = Array.from({ length: mlpLayers }, (_, k) => {
    const l = mlpLayers - 1 - k;
    const fanIn = widths[l];
    const fanOut = widths[l + 1];
    const w = mlpLayerAt(l);
    const inAt = activationsOf(l);
    return `
    for (var p = t; p < ${fanOut * fanIn}u; p += WG) {
      let g = delta[p / ${fanIn}u];
      if (g != 0.0) { dense[NP + ${2 * P}u + ${w}u + p] += g * scratch[act + ${inAt}u + p % ${fanIn}u]; }
    }
    for (var o = t; o < ${fanOut}u; o += WG) { dense[NP + ${2 * P}u + ${w + fanIn * fanOut}u + o] += delta[o]; }
    for (var i = t; i < ${fanIn}u; i += WG) {
      var s = 0.0;
      for (var o = 0u; o < ${fanOut}u; o++) { s += dense[NP + ${w}u + o * ${fanIn}u + i] * delta[o]; }
      ${l > 0 ? `if (scratch[act + ${inAt}u + i] <= 0.0) { s = 0.0; }` : ''}
      deltaNext[i] = s;
    }
    storageBarrier();
    workgroupBarrier();
    for (var i = t; i < ${fanIn}u; i += WG) { delta[i] = deltaNext[i]; }
    workgroupBarrier();`;
  }).join('');

  const crossBackward = Array.from({ length: L }, (_, k) => {
    const l = L - 1 - k;
    const base = l * layerSize;
    const xl = xAt + l * D;
    const yl = yAt + l * D;
    const G = `NP + ${2 * P}u`;
    const weights =
      R === 0
        ? `
    for (var i = t; i < D; i += WG) { dense[${G} + ${base + D * D}u + i] += dy[i]; }
    for (var p = t; p < D * D; p += WG) {
      let g = dy[p / D];
      if (g != 0.0) { dense[${G} + ${base}u + p] += g * scratch[act + ${xl}u + p % D]; }
    }
    for (var j = t; j < D; j += WG) {
      var s = 0.0;
      for (var i = 0u; i < D; i++) { s += dense[NP + ${base}u + i * D + j] * dy[i]; }
      dxp[j] += s;
    }`
        : `
    for (var i = t; i < D; i += WG) { dense[${G} + ${base + 2 * D * R}u + i] += dy[i]; }
    for (var p = t; p < D * R; p += WG) { dense[${G} + ${base}u + p] += dy[p / R] * scratch[act + ${hAt + l * R}u + p % R]; }
    for (var q = t; q < R; q += WG) {
      var s = 0.0;
      for (var i = 0u; i < D; i++) { s += dense[NP + ${base}u + i * R + q] * dy[i]; }
      dh[q] = s;
    }
    workgroupBarrier();
    for (var p = t; p < D * R; p += WG) { dense[${G} + ${base + D * R}u + p] += scratch[act + ${xl}u + p / R] * dh[p % R]; }
    for (var j = t; j < D; j += WG) {
      var s = 0.0;
      for (var q = 0u; q < R; q++) { s += dense[NP + ${base + D * R}u + j * R + q] * dh[q]; }
      dxp[j] += s;
    }`;
    return `
    for (var i = t; i < D; i += WG) {
      dy[i] = dx[i] * scratch[act + i];
      dIn[i] += dx[i] * scratch[act + ${yl}u + i];
      dxp[i] = dx[i];
    }
    workgroupBarrier();${weights}
    storageBarrier();
    workgroupBarrier();
    for (var i = t; i < D; i += WG) { dx[i] = dxp[i]; }
    workgroupBarrier();`;
  }).join('');

  return /* wgsl */ `
${sharedWgsl(shape)}
const D: u32 = ${D}u;
const R: u32 = ${Math.max(R, 1)}u;
const NP: u32 = ${NP}u;
const P: u32 = ${P}u;
const CAND_AT: u32 = ${dcn.candidateOffset}u;
const SHIFT: u32 = ${DCN_SLOT_SHIFT}u;
const ROW_MASK: u32 = ${(1 << DCN_SLOT_SHIFT) - 1}u;
const ACT0: u32 = ${rowGradFloats}u;
const ACT: u32 = ${activationFloats(dcn)}u;
const OUT_AT: u32 = ${activationsOf(mlpLayers)}u;


var<workgroup> ctx: array<f32, ${D}>;
var<workgroup> dCtx: array<f32, ${D}>;
var<workgroup> dIn: array<f32, ${D}>;
var<workgroup> dx: array<f32, ${D}>;
var<workgroup> dxp: array<f32, ${D}>;
var<workgroup> dy: array<f32, ${D}>;
var<workgroup> dh: array<f32, ${Math.max(R, 1)}>;
var<workgroup> delta: array<f32, ${widest}>;
var<workgroup> deltaNext: array<f32, ${widest}>;

fn rowOf(x: u32) -> u32 {
  if (x == MISSING) { return MISSING; }
  return x & ROW_MASK;
}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(local_invocation_index) t: u32) {
  for (var e = 0u; e < params.eventCount; e++) {
${EVENT_HEADER}

    // x0's context blocks: the user, then each slot's mean of its features (weights arrive divided by the slot's count).
    for (var k = t; k < D; k += WG) {
      var v = 0.0;
      if (k < DIM) {
        v = rowValue(rowOf(refs[ctxStart].x), k);
      } else if (k < CAND_AT) {
        let slot = k / DIM - 1u;
        let kk = k % DIM;
        for (var i = 1u; i < ctxCount; i++) {
          let rf = refs[ctxStart + i];
          if ((rf.x >> SHIFT) == slot) { v += bitcast<f32>(rf.y) * rowValue(rf.x & ROW_MASK, kk); }
        }
      }
      ctx[k] = v;
      dCtx[k] = 0.0;
    }
    if (t == 0u) { atomicStore(&bad, 0u); }
    workgroupBarrier();

    for (var c = 0u; c < candCount; c++) {
      let act = ACT0 + c * ACT;
      let rc = refs[candStart + c];
      for (var k = t; k < D; k += WG) {
        var v = ctx[k];
        if (k >= CAND_AT && k < CAND_AT + DIM) { v = rowValue(rc.x, k - CAND_AT); }
        scratch[act + k] = v;
      }
      storageBarrier();
      workgroupBarrier();${crossForward}
      for (var k = t; k < D; k += WG) { scratch[act + ${activationsOf(0)}u + k] = scratch[act + ${L * D}u + k]; }
      storageBarrier();
      workgroupBarrier();${mlpForward}
      if (t == 0u) {
        var s = scratch[act + OUT_AT] + dense[0];
        s += candidateOffsets(c, rc.y, hasHistory, crossStart, perCandidate);
        scores[c] = s;
        outs[scoreStart + c] = s;
      }
    }
    workgroupBarrier();

${LOSS_STEP}

    for (var c = 0u; c < candCount; c++) {
      let g = workgroupUniformLoad(&dS[c]);
      if (g != 0.0) {
        let act = ACT0 + c * ACT;
        if (t == 0u) { delta[0] = g; }
        workgroupBarrier();${mlpBackward}
        for (var i = t; i < D; i += WG) { dx[i] = delta[i]; dIn[i] = 0.0; }
        workgroupBarrier();${crossBackward}
        for (var i = t; i < D; i += WG) {
          let total = dIn[i] + dx[i];
          if (i >= CAND_AT && i < CAND_AT + DIM) {
            scratch[(ctxCount + c) * RF + i - CAND_AT] = total;
          } else {
            dCtx[i] += total;
          }
        }
        if (t == 0u) { scratch[(ctxCount + c) * RF + DIM] = 0.0; }
        storageBarrier();
        workgroupBarrier();
      }
    }

    // The context rows' gradients: the user's block, a feature's slot block times its weight / count.
    let entries = ctxCount * RF;
    for (var j = t; j < entries; j += WG) {
      let i = j / RF;
      let k = j % RF;
      var g = 0.0;
      if (k < DIM) {
        if (i == 0u) {
          g = dCtx[k];
        } else {
          let rf = refs[ctxStart + i];
          g = bitcast<f32>(rf.y) * dCtx[DIM * (1u + (rf.x >> SHIFT)) + k];
        }
      }
      if (nonFinite(g)) { atomicOr(&bad, 1u); }
      scratch[j] = g;
    }
    for (var j = t; j < candCount * RF; j += WG) {
      if (dS[j / RF] != 0.0 && nonFinite(scratch[ctxCount * RF + j])) { atomicOr(&bad, 1u); }
    }
    for (var p = t; p < P; p += WG) { if (nonFinite(dense[NP + 2u * P + p])) { atomicOr(&bad, 1u); } }
    storageBarrier();
    workgroupBarrier();

    let ok = atomicLoad(&bad) == 0u;
    if (ok) {
      for (var k = t; k < RF; k += WG) {
        let rate = select(params.lr, linearLr, k == DIM);
        for (var i = 0u; i < ctxCount; i++) {
          let r = rowOf(refs[ctxStart + i].x);
          if (r != MISSING) { adagrad(r * RF + k, scratch[i * RF + k], rate); }
        }
        for (var c = 0u; c < candCount; c++) {
          let r = refs[candStart + c].x;
          if (dS[c] != 0.0 && r != MISSING) { adagrad(r * RF + k, scratch[(ctxCount + c) * RF + k], rate); }
        }
      }
      for (var p = t; p < P; p += WG) { denseStep(NP + p, NP + P + p, dense[NP + 2u * P + p]); }
    }
    for (var p = t; p < P; p += WG) { dense[NP + 2u * P + p] = 0.0; }
    if (t == 0u) {
      if (ok) {
        denseStep(0u, 1u, wsh[1]);
${HISTORY_AND_CROSS_STEPS}      }
      outs[params.lossBase + 2u * e + 1u] = select(0.0, 1.0, ok);
    }
    storageBarrier();
    workgroupBarrier();
  }
}
`;
}
