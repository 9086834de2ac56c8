/**
 * Runs every benchmark one after another (they need the machine to themselves to mean
 * anything). Kafka benchmarks need a broker: `npm run kafka:start` first.
 *
 *   npm run bench            all of them (~10 minutes on 2 cores)
 *   npm run bench -- kernels encoders   only those
 */
import { spawnSync } from 'node:child_process';

const benches: Record<string, string[]> = {
  kernels: ['bench/kernels.ts'],
  'gpu-batches': ['bench/gpu-batches.ts'],
  'dcn-batches': ['bench/dcn-batches.ts'],
  encoders: ['bench/encoders.ts'],
  serde: ['bench/serde.ts'],
  state: ['bench/state-rows.ts', '--users', '500000'],
  requests: ['bench/request-store.ts'],
  passthrough: ['bench/raw-loop.ts'],
  e2e: ['bench/recommender-e2e.ts'],
  steps: ['bench/step-times.ts'],
  allocations: ['bench/allocations.ts'],
  learning: ['bench/evaluate-learning.ts'],
  digest: ['bench/output-digest.ts'],
  replay: ['bench/replay.ts'],
};

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(benches);
let failed = 0;
for (const name of wanted) {
  const args = benches[name];
  if (!args) {
    console.error(`unknown benchmark '${name}' (have: ${Object.keys(benches).join(', ')})`);
    process.exit(2);
  }
  console.log(`\n=== ${name}: npx tsx ${args.join(' ')}`);
  const result = spawnSync('npx', ['tsx', ...args], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
