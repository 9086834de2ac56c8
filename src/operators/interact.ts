import { recordStep } from '../topology/step.js';
import type { StepDefinition } from '../topology/types.js';
import { ModelTask } from './recommender/model-task.js';
import type { RecommenderModel } from './recommender/recommender-model.js';
import type { LookedUpEvent } from './recommender/types.js';

export interface InteractOptions {
  model: RecommenderModel;
}

/**
 * Scores every candidate action of each request: a factorization machine (second order via the
 * sum-square identity, plus linear and bias terms) or DCN-v2 cross layers + MLP, as the model
 * defines. Scores of one batch use the model as it stood at the start of the batch's learning
 * (updates are applied after, record by record, by `update`), so the model state itself never
 * depends on where batch boundaries fall.
 *
 * @example
 * .step(interact('score', { model }))
 */
export function interact(name: string, options: InteractOptions): StepDefinition<LookedUpEvent, LookedUpEvent> {
  const { model } = options;
  return recordStep<LookedUpEvent, LookedUpEvent>(
    name,
    'interact',
    (ctx) => {
      const task = ModelTask.of(ctx, model);
      return (e) => {
        if (e.role === 'score') {
          const scores = new Float32Array(e.candidates.length);
          task.score(e, scores);
          e.scores = scores;
          e.modelVersion = task.version;
          e.userEmbedding = copyOf(e.user?.values, model.dim);
          ctx.metrics.count('requests_scored');
        }
        return e;
      };
    },
    { options: { model: model.name, interaction: model.interaction, ...(model.dcn ? { crossLayers: model.dcn.cross.layers, rank: model.dcn.cross.rank } : {}) }, stores: model.stores },
  );
}

/** The first `dim` values as a plain array (zeros without a row): an indexed copy, no iterator. */
function copyOf(values: Float32Array | undefined, dim: number): number[] {
  const out = new Array<number>(dim);
  for (let i = 0; i < dim; i++) out[i] = values ? values[i] : 0;
  return out;
}
