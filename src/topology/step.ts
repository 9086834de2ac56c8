import { concatMap, map, type OperatorFunction } from 'rxjs';
import type { Batch, Envelope, RecordMeta, StepContext, StepDefinition, StepProtocol, StoreSpec } from './types.js';

export interface StepExtras {
  options?: Readonly<Record<string, unknown>>;
  stores?: readonly StoreSpec[];
  topics?: StepDefinition<unknown, unknown>['topics'];
  protocol?: StepProtocol;
}

/**
 * A step whose logic is a function of one record. Returning undefined drops the record; an
 * array fans out. A throw dead-letters that record only, so one bad record never stops a batch.
 */
export function recordStep<In, Out>(
  name: string,
  kind: string,
  setup: (ctx: StepContext) => (value: In, meta: RecordMeta) => Out | Out[] | undefined,
  extras: StepExtras = {},
): StepDefinition<In, Out> {
  return defineStep(name, kind, extras, (ctx) => {
    const fn = setup(ctx);
    return map((batch: Batch<In>): Batch<Out> => {
      const records: Envelope<Out>[] = [];
      for (const record of batch.records) {
        let out: Out | Out[] | undefined;
        try {
          out = fn(record.value, record.meta);
        } catch (err) {
          ctx.deadLetter(record.meta, err);
          continue;
        }
        if (out === undefined) continue;
        if (Array.isArray(out)) for (const value of out) records.push({ meta: record.meta, value });
        // A step that returns the value it was given (enriched in place) keeps its envelope.
        else records.push(out === (record.value as unknown) ? (record as unknown as Envelope<Out>) : { meta: record.meta, value: out });
      }
      return { partition: batch.partition, records };
    });
  });
}

/**
 * A step that works on the whole batch at once (batched model calls, store reads). Batches are
 * processed strictly in order (concatMap). The step handles per-record failures itself with
 * ctx.deadLetter; a throw here fails the task.
 */
export function batchStep<In, Out>(
  name: string,
  kind: string,
  setup: (ctx: StepContext) => (batch: Batch<In>) => Batch<Out> | Promise<Batch<Out>>,
  extras: StepExtras = {},
): StepDefinition<In, Out> {
  return defineStep(name, kind, extras, (ctx) => {
    const fn = setup(ctx);
    return concatMap(async (batch: Batch<In>) => fn(batch));
  });
}

function defineStep<In, Out>(
  name: string,
  kind: string,
  extras: StepExtras,
  create: (ctx: StepContext) => OperatorFunction<Batch<In>, Batch<Out>>,
): StepDefinition<In, Out> {
  return Object.freeze({
    name,
    kind,
    options: extras.options ? Object.freeze({ ...extras.options }) : undefined,
    stores: extras.stores ? Object.freeze([...extras.stores]) : undefined,
    topics: extras.topics,
    protocol: extras.protocol,
    create,
  });
}
