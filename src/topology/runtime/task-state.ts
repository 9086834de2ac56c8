import { AgentrecError } from '../../errors.js';

/** The life of one partition's task. */
export enum TaskState {
  Created = 'created',
  Restoring = 'restoring',
  Running = 'running',
  Suspended = 'suspended',
  Closed = 'closed',
}

const allowed: Record<TaskState, readonly TaskState[]> = {
  [TaskState.Created]: [TaskState.Restoring, TaskState.Closed],
  [TaskState.Restoring]: [TaskState.Running, TaskState.Closed],
  [TaskState.Running]: [TaskState.Suspended, TaskState.Closed],
  [TaskState.Suspended]: [TaskState.Running, TaskState.Closed],
  [TaskState.Closed]: [],
};

export class TaskLifecycle {
  private current = TaskState.Created;

  constructor(private readonly taskName: string) {}

  get state(): TaskState {
    return this.current;
  }

  transition(to: TaskState): void {
    if (!allowed[this.current].includes(to)) {
      throw new AgentrecError('TASK_STATE_ILLEGAL', `task ${this.taskName}: illegal transition ${this.current} -> ${to}`);
    }
    this.current = to;
  }

  expect(...states: TaskState[]): void {
    if (!states.includes(this.current)) {
      throw new AgentrecError('TASK_STATE_ILLEGAL', `task ${this.taskName}: is ${this.current}, expected ${states.join(' or ')}`);
    }
  }
}

/** PartitionTask.describe(): a task's offsets and current operation. */
export interface PartitionTaskDescription {
  partition: number;
  state: TaskState;
  appliedOffset: number;
  lastProcessed: number;
  lastFlushed: number;
  lastCommitted: number;
  outputsInFlight: number;
  running: { operation: string; forMs: number } | undefined;
}

/**
 * Runs a task's operations one at a time: process, commit and close never interleave, each
 * waits for the one before (a failed one does not stop the next, but is remembered). Knows the
 * operation running now, for describe().
 */
export class SerialOperations {
  private exclusive: Promise<unknown> = Promise.resolve();
  private current: { operation: string; since: number } | undefined;
  /** The error the first failed operation threw. */
  failure: unknown;

  run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      this.current = { operation, since: performance.now() };
      try {
        return await fn();
      } catch (error) {
        this.failure ??= error;
        throw error;
      } finally {
        this.current = undefined;
      }
    };
    const next = this.exclusive.then(run, run);
    this.exclusive = next.catch(() => undefined);
    return next;
  }

  /** The operation running now and for how long, or undefined when the task is idle. */
  running(): { operation: string; forMs: number } | undefined {
    return this.current && { operation: this.current.operation, forMs: Math.round(performance.now() - this.current.since) };
  }
}
