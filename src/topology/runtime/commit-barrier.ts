/** What one task tells an exactly-once commit once its outputs and changelogs are in the transaction. */
export interface TaskCommitBarrier {
  /**
   * `offset`: the input offset to commit (next to read), undefined when the task processed
   * nothing yet. Resolves once the transaction committed (the task may then write its stores);
   * rejects if it did not (the stores must not be written).
   */
  arrive(offset: number | undefined): Promise<void>;
}

/**
 * Where the tasks of one exactly-once commit meet: every task arrives once its part is in the
 * open transaction, the runner commits the transaction with the offsets they brought, then
 * releases them to write their stores, or aborts them all. Held tasks process nothing, so no
 * record of a later batch can slip into the transaction without its offset.
 */
export class CommitBarrier {
  /** Resolves with partition → offset once every task arrived; rejects when one failed first. */
  readonly arrived: Promise<Map<number, number>>;
  private readonly offsets = new Map<number, number>();
  private waiting: number;
  private settleArrived!: { resolve(offsets: Map<number, number>): void; reject(error: unknown): void };
  private readonly released: Promise<void>;
  private settleReleased!: { resolve(): void; reject(error: unknown): void };

  constructor(tasks: number) {
    this.waiting = tasks;
    this.arrived = new Promise((resolve, reject) => (this.settleArrived = { resolve, reject }));
    this.released = new Promise((resolve, reject) => (this.settleReleased = { resolve, reject }));
    // Nobody may be waiting on either when the commit fails.
    this.arrived.catch(() => undefined);
    this.released.catch(() => undefined);
    if (tasks === 0) this.settleArrived.resolve(this.offsets);
  }

  /** The barrier as the task of `partition` sees it. */
  forTask(partition: number): TaskCommitBarrier {
    let arrived = false;
    return {
      arrive: (offset) => {
        if (!arrived) {
          arrived = true;
          if (offset !== undefined) this.offsets.set(partition, offset);
          if (--this.waiting === 0) this.settleArrived.resolve(this.offsets);
        }
        return this.released;
      },
    };
  }

  /** A task failed before arriving: the commit cannot happen. */
  fail(error: unknown): void {
    this.settleArrived.reject(error);
  }

  /** The transaction committed: the tasks write their stores. */
  release(): void {
    this.settleReleased.resolve();
  }

  /** The transaction did not commit: no task writes its stores. */
  abort(error: unknown): void {
    this.settleArrived.reject(error);
    this.settleReleased.reject(error);
  }
}
