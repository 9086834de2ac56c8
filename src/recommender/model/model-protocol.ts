import type { StepProtocol } from '../../topology/types.js';

/** A model's steps, in the order a topology must run them: lookup begins the batch learn ends. */
export const MODEL_STEPS = Object.freeze(['lookup', 'score', 'learn'] as const);

export type ModelStep = (typeof MODEL_STEPS)[number];

/** The protocol membership of one of a model's steps; the topology builder checks the group. */
export function modelProtocol(model: { readonly name: string }, role: ModelStep): StepProtocol {
  return Object.freeze({ group: `model '${model.name}'`, role, roles: MODEL_STEPS });
}
