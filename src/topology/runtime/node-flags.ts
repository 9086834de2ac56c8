import { readFileSync } from 'node:fs';

/**
 * How a topology process should be started, and a check that it was (README, "Tuning";
 * `scripts/node.sh` starts node this way, the CLI's shebang passes the flag).
 *
 * The young generation: a batch (up to 5,000 records per partition) keeps its decoded events,
 * features and looked-up rows alive until its last step, which outlived V8's default young
 * generation (16 MiB semi-spaces, a scavenge every ~1,300 events here): ~30 % of what the
 * pipeline allocated survived a scavenge and was copied, promoted and later marked. With
 * 128 MiB semi-spaces most of a batch dies young. V8 sizes the young generation when the process
 * starts (v8.setFlagsFromString later has no effect on it): a command-line flag or NODE_OPTIONS.
 *
 * The allocator: the Kafka client copies every consumed record and every delivery report's key
 * into a malloc'ed Buffer; glibc's malloc spent ~17 % of the JavaScript thread on them (its
 * consolidations included), jemalloc ~5 %. Preloading is the only way to swap it: LD_PRELOAD.
 * Measurements: bench/README.md, "A young generation that holds a batch".
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=128';

/**
 * V8's allocation-site pretenuring: when most objects from one allocation site survive a
 * scavenge, V8 allocates that site's objects in the old generation from then on. Here the first
 * batches of all partitions run together at a cold start and survive, which sometimes tipped
 * the pipeline's own sites into pretenuring for the rest of the run; their dead objects in old
 * space then held young ones alive through every scavenge. Runs fell into two regimes (~100 or
 * ~350 MB promoted over 200k events, GC pauses ~0.5 or ~1.2 s); with this flag 7 of 7 runs were in
 * the good one, against 4 of 7 without (bench/README.md, seventh session).
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
