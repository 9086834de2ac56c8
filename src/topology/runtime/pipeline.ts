import { Subject, catchError, tap, throwError, type Observable, type Subscription } from 'rxjs';
import { AgentrecError, errorMessage } from '../../errors.js';
import type { RuntimeMetrics } from '../../metrics.js';
import type { SourceRecord } from '../transport/types.js';
import type { Batch, Envelope, StepContext, StepDefinition } from '../types.js';
import type { RawRecord } from '../topology.js';

/**
 * One task's live RxJS chain. Batches are pushed into a Subject and come out of the last step
 * in the same order (every step is batch-in, batch-out, 1:1), so `run()` can pair each output
 * with the promise of its input. The chain lives as long as the task: operators may keep
 * per-task state across batches.
 */
export class TaskPipeline {
  private readonly input = new Subject<Batch<RawRecord>>();
  private readonly waiting: { resolve(b: Batch<unknown>): void; reject(e: unknown): void }[] = [];
  private readonly subscription: Subscription;
  private failure: unknown;

  constructor(
    steps: readonly StepDefinition<unknown, unknown>[],
    contextFor: (step: StepDefinition<unknown, unknown>) => StepContext,
    metrics: RuntimeMetrics,
    topologyName: string,
  ) {
    let stream: Observable<Batch<unknown>> = this.input;
    for (const step of steps) {
      const operator = step.create(contextFor(step));
      const started: number[] = [];
      const partitionOf = (b: Batch<unknown>) => String(b.partition);
      stream = stream.pipe(
        tap((b) => {
          started.push(performance.now());
          metrics.recordsIn.inc({ topology: topologyName, step: step.name, partition: partitionOf(b) }, b.records.length);
        }),
        operator,
        catchError((error: unknown) => throwError(() => inStep(error, step.name))),
        tap((b) => {
          const t0 = started.shift() ?? performance.now();
          metrics.stepDuration.observe({ topology: topologyName, step: step.name }, (performance.now() - t0) / 1000);
          metrics.recordsOut.inc({ topology: topologyName, step: step.name, partition: partitionOf(b) }, b.records.length);
        }),
      );
    }
    this.subscription = stream.subscribe({
      next: (batch) => this.waiting.shift()?.resolve(batch),
      error: (err) => this.fail(err),
      complete: () => this.fail(new Error('pipeline completed unexpectedly')),
    });
  }

  run(batch: Batch<RawRecord>): Promise<Batch<unknown>> {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rethrown exactly as the step threw it
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.input.next(batch);
    });
  }

  close(): void {
    this.subscription.unsubscribe();
    this.input.complete();
  }

  private fail(err: unknown): void {
    this.failure = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}

/**
 * A batch's failure, as the step it happened in reports it. Coded errors pass unchanged (they
 * may be caught by class, and most already name their step); anything else becomes STEP_FAILED,
 * so the one line a fatal error is logged with says which step to look at.
 */
function inStep(error: unknown, step: string): unknown {
  return error instanceof AgentrecError ? error : new AgentrecError('STEP_FAILED', errorMessage(error), { step, cause: error });
}

/** A polled batch as the first step sees it: each record's origin and raw bytes. */
export function sourceBatch(partition: number, records: SourceRecord[]): Batch<RawRecord> {
  return { partition, records: records.map(toEnvelope) };
}

function toEnvelope(record: SourceRecord): Envelope<RawRecord> {
  return {
    meta: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key === null ? null : record.key.toString('utf8'),
    },
    value: { key: record.key, value: record.value },
  };
}
