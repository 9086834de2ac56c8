import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { StateError } from '../../src/errors.js';
import { openRocksDbStore } from '../../src/state/rocksdb-store.js';
import { TopologyRunner } from '../../src/topology/runtime/topology-runner.js';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import agentRecommender from '../../topologies/agent-recommender.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';
import { recommenderSettings } from '../support/recommender-topics.js';

const HOLDER = fileURLToPath(new URL('../support/hold-rocksdb.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Settles with the runner's outcome, or 'hung' when it neither stopped nor failed in time. */
function outcomeOf(runner: TopologyRunner, timeoutMs: number): Promise<unknown> {
  return Promise.race([
    runner.done.then(
      () => 'stopped cleanly',
      (error: unknown) => error,
    ),
    new Promise((resolve) => setTimeout(() => resolve('hung'), timeoutMs)),
  ]);
}

/**
 * A state directory the runner cannot use fails the runner (runner.done rejects) with an error
 * that names the directory: never a hang, never a silent fresh start over someone else's state.
 */
describeKafka('unusable state directories fail the runner (real broker, real RocksDB)', () => {
  const newDir = tempDirs('state-errors');
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A one-partition agent recommender on its own topics, its state under `stateDir`. */
  function runnerFor(stateDir: string, name: string): TopologyRunner {
    // The consumer reports the failed assignment here too; runner.done is what the tests check.
    const transport: Transport = createKafkaTransport({ brokers: kafkaBrokers!, onError: () => undefined });
    const topology = agentRecommender({ transport: 'kafka', settings: recommenderSettings(`${name}.in`, `${name}.scores`, 1) });
    const runner = new TopologyRunner(topology, { transport, groupId: name, stateDir, log: () => undefined });
    cleanups.push(async () => {
      await runner.stop().catch(() => undefined);
      await transport.close();
    });
    return runner;
  }

  async function expectFailureNaming(runner: TopologyRunner, code: string, directory: string): Promise<void> {
    await runner.start();
    const outcome = await outcomeOf(runner, 60_000);
    expect(outcome).toBeInstanceOf(StateError);
    const error = outcome as StateError;
    expect(error.code).toBe(code);
    expect(error.directory).toBe(directory);
    expect(error.message).toContain(directory);
    // Failing is not hanging: the runner also winds down.
    expect(await Promise.race([runner.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('hung'), 30_000))])).toBe(
      'stopped',
    );
  }

  it('a state directory held by another process: STATE_LOCKED naming the directory', async () => {
    const stateDir = await newDir();
    const name = uniqueName('state-errors');
    // State lives under the application (group id) directory.
    const directory = join(stateDir, name, 'rec', '0');
    const holder: ChildProcess = spawn(process.execPath, ['--import', 'tsx', HOLDER, directory], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    cleanups.push(async () => {
      holder.kill('SIGKILL');
      await exited;
    });
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('holding') && resolve());
      holder.once('exit', (code) => reject(new Error(`the holder exited (${code}) before taking the lock`)));
    });
    const runner = runnerFor(stateDir, name);
    await expectFailureNaming(runner, 'STATE_LOCKED', directory);
  });

  it('a corrupted state directory: STATE_CORRUPT naming the directory', async () => {
    const stateDir = await newDir();
    const name = uniqueName('state-errors');
    // State lives under the application (group id) directory.
    const directory = join(stateDir, name, 'rec', '0');
    await mkdir(directory, { recursive: true });
    const store = await openRocksDbStore(directory);
    await store.put(Buffer.from('row'), Buffer.from('value'));
    await store.flush(7);
    await store.close();
    // CURRENT names the live MANIFEST; garbage there is what a torn copy or a bad disk leaves.
    await writeFile(join(directory, 'CURRENT'), 'MANIFEST-\u0000\u0000garbage');
    const runner = runnerFor(stateDir, name);
    await expectFailureNaming(runner, 'STATE_CORRUPT', directory);
  });
});
