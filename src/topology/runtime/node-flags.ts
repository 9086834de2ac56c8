import { readFileSync } from 'node:fs';

/**
 * How a topology process should be started, and a check that it was (README, "Tuning";
 * `scripts/node.sh` starts node this way, the CLI's shebang passes the flag).
 *
 * The young generation: a batch keeps its decoded events, features and looked-up rows alive
 * until its last step, longer than V8's default young generation lasts, so much of what the
 * pipeline allocates would be copied, promoted and later marked; with 128 MiB semi-spaces most
 * of a batch dies young. V8 sizes the young generation at start: a command-line flag or NODE_OPTIONS.
 *
 * The allocator: the Kafka client copies every consumed record and every delivery report's key
 * into a malloc'ed Buffer, which jemalloc serves far more cheaply than glibc's malloc; only
 * LD_PRELOAD can swap it. Measurements: bench/README.md, "A young generation that holds a batch".
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=128';

/**
 * V8's allocation-site pretenuring: when most objects from one allocation site survive a
 * scavenge, V8 allocates that site's objects in the old generation from then on. Here the first
 * batches of all partitions run together at a cold start and survive, which sometimes tipped
 * the pipeline's own sites into pretenuring for the rest of the run; their dead objects in old
 * space then held young ones alive through every scavenge. Turning pretenuring off keeps runs
 * out of that slow regime (bench/README.md, "Steady state, the flush path, and where a cold start goes").
 */
export const NO_PRETENURING_FLAG = '--no-allocation-site-pretenuring';

/** The V8 flags agentrec starts node with, in this order (scripts/node.sh, the CLI's shebang). */
export const NODE_FLAGS: readonly string[] = [YOUNG_GENERATION_FLAG, NO_PRETENURING_FLAG];

/** True when the process was started with some --max-semi-space-size (ours or the operator's). */
export function youngGenerationSized(execArgv: readonly string[], nodeOptions: string): boolean {
  return startedWith(execArgv, nodeOptions, (arg) => arg.startsWith('--max-semi-space-size') || arg.startsWith('--max_semi_space_size'));
}

/** True when the process was started with allocation-site pretenuring off. */
export function pretenuringOff(execArgv: readonly string[], nodeOptions: string): boolean {
  return startedWith(execArgv, nodeOptions, (arg) => arg === NO_PRETENURING_FLAG || arg === '--no_allocation_site_pretenuring');
}

/** Whether an option on the command line or in NODE_OPTIONS is one `matches` accepts. */
function startedWith(execArgv: readonly string[], nodeOptions: string, matches: (arg: string) => boolean): boolean {
  return execArgv.some(matches) || nodeOptions.split(/\s+/).some(matches);
}

export type Malloc = 'jemalloc' | 'tcmalloc' | 'mimalloc' | 'system';

/** The malloc a process runs on, from its memory map (/proc/<pid>/maps; undefined: none to read). */
export function mallocFromMaps(maps: string | undefined): Malloc | undefined {
  if (maps === undefined) return undefined;
  for (const name of ['jemalloc', 'tcmalloc', 'mimalloc'] as const) if (maps.includes(`lib${name}`)) return name;
  return 'system';
}

/** How a process was started, as far as the tuning goes. */
export interface StartedWith {
  execArgv: readonly string[];
  nodeOptions: string;
  malloc: Malloc | undefined;
}

export function thisProcess(): StartedWith {
  return { execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS ?? '', malloc: mallocFromMaps(readProcessMaps()) };
}

/** The one-line hint the CLI prints about what the process was started without (undefined: nothing). */
export function tuningHint(started: StartedWith = thisProcess()): string | undefined {
  const missing: string[] = [];
  if (!youngGenerationSized(started.execArgv, started.nodeOptions)) missing.push(`node ${YOUNG_GENERATION_FLAG} (~25 % more events/s)`);
  if (!pretenuringOff(started.execArgv, started.nodeOptions)) missing.push(`node ${NO_PRETENURING_FLAG} (steadier GC)`);
  if (started.malloc === 'system') missing.push('jemalloc (LD_PRELOAD=libjemalloc.so.2, ~10 % more)');
  if (missing.length === 0) return undefined;
  return `agentrec: hint: started without ${missing.join(' and ')}; sh scripts/node.sh starts it with all of them (README, "Tuning")`;
}

function readProcessMaps(): string | undefined {
  try {
    return readFileSync('/proc/self/maps', 'latin1');
  } catch {
    return undefined;
  }
}
