import type { ConnectionStatus, GroupStatus } from '../transport/types.js';

/** One condition of readiness: whether it holds, and in words why (or why not). */
export interface ReadinessCheck {
  ok: boolean;
  detail: string;
}

/** What GET /readyz answers (503 unless ready), as JSON. */
export interface Readiness {
  ready: boolean;
  checks: { runner: ReadinessCheck; broker: ReadinessCheck; group: ReadinessCheck; restore: ReadinessCheck };
}

export interface ReadinessInput {
  runner: 'starting' | 'running' | 'stopping' | 'failed';
  /** Undefined where the transport has no connection to lose (the embedded log). */
  connection: ConnectionStatus | undefined;
  /** Undefined where the transport's group is settled by construction (the embedded log). */
  group: GroupStatus | undefined;
  assignedPartitions: readonly number[];
  /** Partitions whose task is still opening or restoring its stores. */
  restoringPartitions: readonly number[];
  now: number;
}

/**
 * Ready means this instance is doing its share of the work now: the runner runs, a broker answers,
 * its group membership is settled, and every assigned partition finished restoring. An instance
 * with no partitions (more instances than partitions) is ready: it is where it should be.
 */
export function readiness(input: ReadinessInput): Readiness {
  const runner: ReadinessCheck = { ok: input.runner === 'running', detail: input.runner };
  const broker: ReadinessCheck =
    input.connection === undefined
      ? { ok: true, detail: 'in-process log' }
      : input.connection.reachable
        ? { ok: true, detail: 'reachable' }
        : {
            ok: false,
            detail: `unreachable for ${Math.round((input.now - input.connection.since) / 1000)} s${
              input.connection.lastError ? ` (${input.connection.lastError})` : ''
            }`,
          };
  const assigned = `${input.assignedPartitions.length} partition(s) assigned [${input.assignedPartitions.join(', ')}]`;
  const group: ReadinessCheck =
    input.runner !== 'running'
      ? { ok: false, detail: 'not a member' }
      : input.group === undefined || input.group.stable
        ? { ok: true, detail: `stable, ${assigned}` }
        : { ok: false, detail: `not stable (${input.group.state}), ${assigned}` };
  const restore: ReadinessCheck =
    input.restoringPartitions.length === 0
      ? { ok: true, detail: 'done' }
      : { ok: false, detail: `restoring partition(s) [${input.restoringPartitions.join(', ')}]` };
  return { ready: runner.ok && broker.ok && group.ok && restore.ok, checks: { runner, broker, group, restore } };
}
