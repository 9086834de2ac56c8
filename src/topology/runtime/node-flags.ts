/**
 * The Node.js flag a topology process should start with, and a check that it did.
 *
 * Why: a batch (up to 5,000 records per partition) keeps its decoded events, features and
 * looked-up rows alive until its last step, which outlives V8's default young generation
 * (16 MiB semi-spaces, a scavenge every ~1,300 events here): ~30 % of what the pipeline
 * allocates survived a scavenge and was copied, promoted and later marked in the old
 * generation. With 128 MiB semi-spaces most of a batch dies young. Measured on Kafka with
 * RocksDB state (bench/README.md, "A young generation that holds a batch"): 16.1k → 20.6k
 * events/s on average, for ~250 MiB more resident memory. V8 fixes the young generation's
 * size when the process starts (v8.setFlagsFromString later has no effect on it), so this has
 * to be a command-line flag or NODE_OPTIONS: the CLI's shebang and `npm start` pass it.
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=128';

/** True when the process was started with some --max-semi-space-size (ours or the operator's). */
export function youngGenerationSized(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  const named = (arg: string) => arg.startsWith('--max-semi-space-size') || arg.startsWith('--max_semi_space_size');
  return execArgv.some(named) || nodeOptions.split(/\s+/).some(named);
}

/** The one-line hint the CLI prints when the flag is missing (undefined when it is there). */
export function youngGenerationHint(execArgv?: readonly string[], nodeOptions?: string): string | undefined {
  if (youngGenerationSized(execArgv, nodeOptions)) return undefined;
  return (
    `agentrec: hint: node runs with V8's default young generation; start it with ${YOUNG_GENERATION_FLAG} ` +
    `(or NODE_OPTIONS=${YOUNG_GENERATION_FLAG}) for ~25 % more events/s (README, "Tuning")`
  );
}
