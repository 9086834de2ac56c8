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
