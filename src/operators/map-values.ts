import { recordStep } from '../topology/step.js';
import type { RecordMeta, StepDefinition } from '../topology/types.js';

/**
 * A pure per-record transform; returning undefined drops the record. A throw dead-letters
 * only that record.
 *
 * @example
 * .step(mapValues('redact', (event) => ({ ...event, text: null })))
 */
export function mapValues<In, Out>(name: string, fn: (value: In, meta: RecordMeta) => Out | undefined): StepDefinition<In, Out> {
  return recordStep<In, Out>(name, 'mapValues', () => fn);
}
