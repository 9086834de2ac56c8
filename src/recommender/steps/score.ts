import { recordStep } from '../../topology/step.js';
import type { StepDefinition } from '../../topology/types.js';
import { ModelTask } from '../model/model-task.js';
import { modelProtocol } from '../model/model-protocol.js';
import type { RecommenderModel } from '../model/recommender-model.js';
import type { LookedUpEvent } from '../types.js';

export interface ScoreOptions {
  model: RecommenderModel;
}

/**
 * Scores every candidate action of each request: a factorization machine (second order via the
 * sum-square identity, plus linear and bias terms) or DCN-v2 cross layers + MLP, as the model
 * defines. Scores of one batch use the model as it stood at the start of the batch's learning
 * (updates are applied after, record by record, by `learn`), so the model state itself never
 * depends on where batch boundaries fall.
 *
 * @example
 * .step(model.score('score'))
 */
export function score(name: string, options: ScoreOptions): StepDefinition<LookedUpEvent, LookedUpEvent> {
  const { model } = options;
  return recordStep<LookedUpEvent, LookedUpEvent>(
    name,
    'score',
    (ctx) => {
      const task = ModelTask.of(ctx, model);
      // Scored into one scratch array, kept as a plain array: a Float32Array of 20 scores is
      // past V8's on-heap limit for typed arrays (64 bytes), so one per request cost an
      // off-heap buffer and its finalization in every GC.
      const scratch = new Float32Array(model.maxCandidates);
      return (e) => {
        if (e.role === 'score') {
          task.score(e, scratch);
          e.scores = copyOf(scratch, e.candidates.length);
          e.modelVersion = task.version;
          e.userEmbedding = copyOf(e.user?.values, model.dim);
          ctx.metrics.count('requests_scored');
        }
        return e;
      };
    },
    {
      options: {
        model: model.name,
        interaction: model.interaction,
        backend: model.backend,
        ...(model.dcn ? { crossLayers: model.dcn.cross.layers, rank: model.dcn.cross.rank, fields: model.dcn.fields } : {}),
        candidateCrosses: model.candidateCrosses ? model.candidateCrosses.fields.join(',') : 'none',
      },
      stores: model.stores,
      protocol: modelProtocol(model, 'score'),
    },
  );
}

/** The first `count` values as a plain array (zeros without values): an indexed copy, no iterator. */
function copyOf(values: Float32Array | undefined, count: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = values ? values[i] : 0;
  return out;
}
