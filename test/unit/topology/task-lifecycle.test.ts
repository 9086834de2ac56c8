import { describe, expect, it } from 'vitest';
import { TaskLifecycle, TaskState } from '../../../src/topology/runtime/task-state.js';

describe('task lifecycle', () => {
  it('follows created → restoring → running ⇄ suspended → closed', () => {
    const life = new TaskLifecycle('t/0');
    life.transition(TaskState.Restoring);
    life.transition(TaskState.Running);
    life.transition(TaskState.Suspended);
    life.transition(TaskState.Running);
    life.transition(TaskState.Closed);
    expect(life.state).toBe(TaskState.Closed);
  });

  it('throws a coded error on an illegal transition, naming the task', () => {
    const life = new TaskLifecycle('t/3');
    expect(() => life.transition(TaskState.Running)).toThrow(/TASK_STATE_ILLEGAL.*t\/3.*created -> running/);
    life.transition(TaskState.Closed);
    expect(() => life.transition(TaskState.Restoring)).toThrow(/closed -> restoring/);
  });
});
