import type { EmbeddingRow } from '../../../rows/embedding-row-store.js';
import type { LookedUpEvent } from '../../../types.js';
import { featureField } from '../../../features/feature-keys.js';
import {
  createDcnScorerWorkspace,
  dcnScorerBackward,
  dcnScorerForward,
  type DcnContext,
  type DcnScorerWorkspace,
} from '../../kernels/dcn-scorer.js';
import { createFmWorkspace, fmBackward, fmPrepareContext, fmScore, type FmWorkspace } from '../../kernels/fm.js';
import { adagradUpdate, ftrlUpdate, type AdagradConfig } from '../../kernels/optimizers.js';
import { isFiniteArray } from '../../kernels/vector.js';
import type { RecommenderModel } from '../../recommender-model.js';
import { denseLayout, type DenseWeights, type ModelBackend } from '../model-backend.js';

/**
 * The reference backend: the FM and DCN-v2 kernels in TypeScript over the row objects themselves
 * (nothing is copied, so beginBatch and endBatch have nothing to do). Runs every model: AdaGrad or
 * FTRL rows, the text-vector projection, any dim. Scratch buffers are sized once, here.
 */
export class TypeScriptBackend implements ModelBackend {
  readonly kind = 'typescript';
  private readonly projectionOffset: number;
  private readonly dcnOffset: number;
  private readonly fm: FmWorkspace;
  private readonly dcn?: DcnScorerWorkspace;
  private readonly contextRows: Float32Array[] = [];
  private readonly contextWeights: Float64Array;
  private readonly contextGradients: Float32Array[];
  private readonly candidateGradients: Float32Array[];
  private readonly candidateValues: Float32Array[] = [];
  /** With candidate tools: each candidate's action row plus its tool row, scored as one vector. */
  private readonly candidateSums: Float32Array[];
  /** With candidate tools: the distinct tool rows of the event and their summed gradients. */
  private readonly toolRows: EmbeddingRow[] = [];
  private readonly toolGradients: Float32Array[];
  private readonly zeroRow: Float32Array;
  /** The sparse AdaGrad settings with the linear weights' rate of the last update that differed. */
  private linearAdagrad?: AdagradConfig;
  private readonly projected: Float32Array;
  private readonly projectedGradient: Float32Array;
  /** The DCN context of the event last passed to score(), reused by learn(). */
  private readonly dcnInput?: DcnContext & { features: Float32Array[]; featureWeights: Float64Array; featureSlots: Int32Array };
  /** Feature key → DCN slot: keys are interned strings, so a hit costs one Map lookup, not a parse. */
  private readonly slotOfKey = new Map<string, number>();
  private readonly slotOfField: Map<string, number>;

  constructor(
    private readonly model: RecommenderModel,
    private readonly dense: DenseWeights,
  ) {
    const layout = denseLayout(model);
    this.projectionOffset = layout.projectionOffset;
    this.dcnOffset = layout.dcnOffset;
    const rowLength = model.dim + 1;
    this.fm = createFmWorkspace(model.dim);
    const maxContext = model.maxFeatures + 2;
    this.slotOfField = new Map(model.dcn?.fields.map((field, i) => [field, i]));
    if (model.dcn) {
      this.dcn = createDcnScorerWorkspace(model.dcn, model.maxCandidates);
      const featureWeights = new Float64Array(model.maxFeatures);
      const featureSlots = new Int32Array(model.maxFeatures);
      this.dcnInput = { user: new Float32Array(rowLength), features: [], featureWeights, featureSlots, featureCount: 0 };
    }
    this.contextWeights = new Float64Array(maxContext);
    this.contextGradients = Array.from({ length: maxContext }, () => new Float32Array(rowLength));
    this.candidateGradients = Array.from({ length: model.maxCandidates }, () => new Float32Array(rowLength));
    const toolBuffers = model.candidateTools ? model.maxCandidates : 0;
    this.candidateSums = Array.from({ length: toolBuffers }, () => new Float32Array(rowLength));
    this.toolGradients = Array.from({ length: toolBuffers }, () => new Float32Array(rowLength));
    this.zeroRow = new Float32Array(rowLength);
    this.projected = new Float32Array(rowLength);
    this.projectedGradient = new Float32Array(rowLength);
  }

  beginBatch(): void {}

  endBatch(): void {}

  score(e: LookedUpEvent, scores: Float32Array): void {
    const count = e.candidates.length;
    const dense = this.dense.values;
    this.prepare(e);
    if (this.dcn && this.model.dcn && this.dcnInput) {
      this.prepareDcn(e, this.dcnInput);
      dcnScorerForward(this.model.dcn, dense.subarray(this.dcnOffset), this.dcn, this.dcnInput, this.candidateValues, scores, count);
      for (let c = 0; c < count; c++) scores[c] += dense[0];
    } else {
      fmPrepareContext(this.fm, dense[0], this.contextRows, this.contextWeights, this.contextRows.length);
      fmScore(this.fm, this.candidateValues, scores, count);
    }
  }

  learn(e: LookedUpEvent, dScores: Float32Array, linearLearningRate: number): boolean {
    const count = e.candidates.length;
    const contextCount = this.contextRows.length;
    const denseGradient = this.dense.gradient;
    denseGradient.fill(0);
    let biasGradient = 0;
    for (let c = 0; c < count; c++) biasGradient += dScores[c];
    if (this.dcn && this.model.dcn && this.dcnInput) {
      dcnScorerBackward(
        this.model.dcn,
        this.dense.values.subarray(this.dcnOffset),
        this.dcn,
        this.dcnInput,
        dScores,
        denseGradient.subarray(this.dcnOffset),
        {
          user: this.contextGradients[0],
          features: this.contextGradients.slice(1, 1 + e.features.length),
          candidates: this.candidateGradients,
          dense: e.dense ? this.projectedGradient : undefined,
        },
        count,
      );
    } else {
      const { contextRows, contextWeights, candidateValues, contextGradients, candidateGradients } = this;
      fmBackward(this.fm, contextRows, contextWeights, candidateValues, dScores, contextGradients, candidateGradients, contextCount, count);
      if (e.dense) this.projectedGradient.set(this.contextGradients[contextCount - 1]);
    }
    denseGradient[0] = biasGradient;
    if (e.dense) this.accumulateProjectionGradient(e.dense);
    for (let i = 0; i < contextCount; i++) if (!isFiniteArray(this.contextGradients[i])) return false;
    if (!isFiniteArray(denseGradient)) return false;
    for (let c = 0; c < count; c++) if (dScores[c] !== 0 && !isFiniteArray(this.candidateGradients[c])) return false;

    const linear = this.linearConfig(linearLearningRate);
    if (e.user) this.applySparse(e.user, this.contextGradients[0], linear);
    e.features.forEach((f, i) => this.applySparse(f.row, this.contextGradients[1 + i], linear));
    e.candidates.forEach((row, c) => {
      if (row && dScores[c] !== 0) this.applySparse(row, this.candidateGradients[c], linear);
    });
    if (e.candidateTools) this.learnTools(e.candidateTools, dScores, count, linear);
    return true;
  }

  /**
   * A candidate's score depends on its action row and its tool row only through their sum, so
   * each gets the candidate's gradient. Candidates sharing a tool share its row: their gradients
   * are summed and the row takes one optimizer step, as a context row used twice would.
   */
  private learnTools(
    tools: readonly (EmbeddingRow | undefined)[],
    dScores: Float32Array,
    count: number,
    linear: AdagradConfig | undefined,
  ): void {
    const rows = this.toolRows;
    rows.length = 0;
    for (let c = 0; c < count; c++) {
      const row = tools[c];
      if (!row || dScores[c] === 0) continue;
      let t = rows.indexOf(row);
      const source = this.candidateGradients[c];
      if (t < 0) {
        t = rows.push(row) - 1;
        this.toolGradients[t].set(source);
      } else {
        const target = this.toolGradients[t];
        for (let k = 0; k < target.length; k++) target[k] += source[k];
      }
    }
    for (let t = 0; t < rows.length; t++) this.applySparse(rows[t], this.toolGradients[t], linear);
  }

  private prepare(e: LookedUpEvent): void {
    const rows = this.contextRows;
    rows.length = 0;
    rows.push(e.user?.values ?? this.zeroRow);
    this.contextWeights[0] = this.model.userWeight;
    e.features.forEach((f, i) => {
      rows.push(f.row.values);
      this.contextWeights[i + 1] = f.weight;
    });
    if (e.dense) {
      this.project(e.dense);
      this.contextWeights[rows.length] = 1;
      rows.push(this.projected);
    }
    this.candidateValues.length = 0;
    const tools = e.candidateTools;
    if (!tools) {
      for (const row of e.candidates) this.candidateValues.push(row?.values ?? this.zeroRow);
      return;
    }
    for (let c = 0; c < e.candidates.length; c++) {
      const action = e.candidates[c]?.values ?? this.zeroRow;
      const tool = tools[c]?.values;
      if (!tool) {
        this.candidateValues.push(action);
        continue;
      }
      const sum = this.candidateSums[c];
      for (let k = 0; k < sum.length; k++) sum[k] = action[k] + tool[k];
      this.candidateValues.push(sum);
    }
  }

  /** Fills the DCN context for `e` (after prepare()): rows, raw weights (the kernel takes each slot's mean) and slots. */
  private prepareDcn(e: LookedUpEvent, input: NonNullable<TypeScriptBackend['dcnInput']>): void {
    input.user = e.user?.values ?? this.zeroRow;
    const features = e.features;
    input.features.length = features.length;
    for (let i = 0; i < features.length; i++) {
      const f = features[i];
      input.features[i] = f.row.values;
      input.featureWeights[i] = f.weight;
      input.featureSlots[i] = this.dcnSlotOf(f.key);
    }
    input.featureCount = features.length;
    // Feedback that fell back to user + action has no text vector; a zero block stands in, as
    // the FM path simply leaves the projected context out.
    input.dense = e.dense ? this.projected : this.model.dcn?.denseInput ? this.zeroRow : undefined;
  }

  /** The configured field's slot, or the last one (the rest) for a key of any other field. */
  dcnSlotOf(key: string): number {
    let slot = this.slotOfKey.get(key);
    if (slot === undefined) {
      // Bounded like the key interning upstream: distinct keys of one task are far fewer.
      if (this.slotOfKey.size >= 100_000) this.slotOfKey.clear();
      slot = this.slotOfField.get(featureField(key)) ?? this.slotOfField.size;
      this.slotOfKey.set(key, slot);
    }
    return slot;
  }

  /** projected = P · dense (P is d×D, row-major), with a zero linear weight. */
  private project(dense: Float32Array): void {
    const d = this.model.dim;
    const D = this.model.denseInputDim;
    const weights = this.dense.values;
    for (let k = 0; k < d; k++) {
      let s = 0;
      const at = this.projectionOffset + k * D;
      for (let j = 0; j < D; j++) s += weights[at + j] * dense[j];
      this.projected[k] = s;
    }
    this.projected[d] = 0;
  }

  private accumulateProjectionGradient(dense: Float32Array): void {
    const d = this.model.dim;
    const D = this.model.denseInputDim;
    const gradient = this.dense.gradient;
    for (let k = 0; k < d; k++) {
      const g = this.projectedGradient[k];
      const at = this.projectionOffset + k * D;
      for (let j = 0; j < D; j++) gradient[at + j] += g * dense[j];
    }
  }

  /** AdaGrad's settings for the linear weights at `rate`; undefined when they are the factors' own. */
  private linearConfig(rate: number): AdagradConfig | undefined {
    const optimizer = this.model.sparseOptimizer;
    if (optimizer.kind !== 'adagrad' || rate === optimizer.config.learningRate) return undefined;
    if (this.linearAdagrad?.learningRate !== rate) this.linearAdagrad = { ...optimizer.config, learningRate: rate };
    return this.linearAdagrad;
  }

  /** `linear`: AdaGrad's settings for the row's last value, its linear weight, when they differ from the factors'. */
  private applySparse(row: EmbeddingRow, gradient: Float32Array, linear: AdagradConfig | undefined): void {
    const optimizer = this.model.sparseOptimizer;
    if (optimizer.kind !== 'adagrad') ftrlUpdate(row.values, row.slots, gradient, optimizer.config);
    else if (!linear) adagradUpdate(row.values, row.slots, gradient, optimizer.config);
    else {
      const dim = this.model.dim;
      adagradUpdate(row.values, row.slots, gradient, optimizer.config, dim);
      adagradUpdate(row.values.subarray(dim), row.slots.subarray(dim), gradient.subarray(dim), linear, 1);
    }
  }
}
