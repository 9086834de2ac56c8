import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { crashRunOptions } from '../support/crash-run-options.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';
import { killAtRandomPoints } from '../support/kill-at-random-points.js';
import type { RecommenderProcessOptions } from '../support/recommender-process.js';
import { prefillTrajectories, recommenderSettings } from '../support/recommender-topics.js';
import { runOutcome, type RunOutcome } from '../support/run-outcome.js';
import { runUntilConsumed } from '../support/run-until-consumed.js';
import { diffSnapshots, entryCount } from '../support/state-snapshot.js';
import { skipGpu } from '../support/webgpu-adapter.js';

const PARTITIONS = 4;
// Fewer events than the CPU crash test: on lavapipe (CI) the shader runs on the CPU, a few thousand events a second.
const EVENTS = 6_000;
const KILLS = 20;

/**
 * kill -9 with learning on the GPU (`--set backend=webgpu`) must change nothing either: the
 * device learns each batch's events in order with the per-event arithmetic, so where a batch
 * starts (a poll, a restart) cannot change a row. Killed and restarted until the input is
 * consumed, the stores end byte-identical to an uninterrupted run's.
 */
/** The shipped FM, and a small DCN (its shader walks each event's candidates through the network one by one: slow on lavapipe). */
const MODELS = [
  { interaction: 'fm', settings: {}, events: EVENTS },
  { interaction: 'dcn', settings: { interaction: 'dcn', dim: '8' }, events: EVENTS / 2 },
] as const;

for (const { interaction, settings, events: EVENTS } of MODELS)
  describeKafka.skipIf(skipGpu)(`state survives kill -9 with backend=webgpu, ${interaction} (real broker, real RocksDB)`, () => {
    const name = uniqueName(`gpu-crash-${interaction}`);
    const input = `${name}.in`;
    const newDir = tempDirs('gpu-crash');
    let transport: Transport;
    let baseline: RunOutcome;

    const baseOptions = crashRunOptions(kafkaBrokers!, name, input, newDir, PARTITIONS);
    const runOptions = async (run: string): Promise<RecommenderProcessOptions> => {
      const options = await baseOptions(run);
      return { ...options, settings: { ...options.settings, ...settings, backend: 'webgpu' } };
    };

    beforeAll(async () => {
      transport = createKafkaTransport({ brokers: kafkaBrokers! });
      await prefillTrajectories(transport, recommenderSettings(input, `${name}.unused`, PARTITIONS), EVENTS);
      const clean = await runOptions('clean');
      // Other batching and commit points than the killed runs': state must not depend on them.
      const run = await runUntilConsumed({ ...clean, maxBatch: 5000, commitIntervalMs: 1000 }, input);
      expect(run.log).toMatch(/step 'learn': learning on WebGPU/);
      expect(run.log).not.toMatch(/runs on the CPU kernel/);
      baseline = await runOutcome(transport, clean, PARTITIONS);
      for (const [store, snapshot] of baseline.state) expect(snapshot.entries.size, store).toBeGreaterThan(0);
    });

    afterAll(async () => {
      await transport?.close();
    });

    it(`ends byte-identical after ${KILLS} SIGKILLs at random points`, async () => {
      const options = await runOptions('killed');
      const committedAtKill = await killAtRandomPoints(options, input, KILLS, () => Math.random() * 1500);
      const last = await runUntilConsumed(options, input);
      expect(last.log).not.toMatch(/runs on the CPU kernel/);
      const midInput = committedAtKill.filter((c) => c > 0 && c < EVENTS).length;
      console.log(
        `kills: ${KILLS}, of which ${midInput} with the input partly consumed; committed at each kill: ${committedAtKill.join(' ')}`,
      );
      const actual = await runOutcome(transport, options, PARTITIONS);
      expect(entryCount(actual.state)).toBe(entryCount(baseline.state));
      expect(diffSnapshots(baseline.state, actual.state)).toEqual([]);
      const missing = [...baseline.scored.keys()].filter((id) => !actual.scored.has(id));
      expect(missing.length, `requests scored by the clean run but missing here, e.g. ${missing.slice(0, 3).join(', ')}`).toBe(0);
    });
  });
