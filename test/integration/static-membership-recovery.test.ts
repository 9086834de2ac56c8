import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { CliRun } from '../support/cli-run.js';
import { eventually } from '../support/eventually.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';
import { prefillTrajectories, recommenderSettings } from '../support/recommender-topics.js';

const PARTITIONS = 2;
const EVENTS = 3000;

/**
 * `kill -9` and a restart with the same --instance-id (static membership): the group hands the
 * partitions straight back instead of waiting out the dead member's session (30 s by default),
 * so the new process owns them, restored, in under 5 s after it joined.
 */
describeKafka('fast recovery after kill -9 with --instance-id (real broker, real RocksDB)', () => {
  const name = uniqueName('static');
  const settings = recommenderSettings(`${name}.in`, `${name}.scores`, PARTITIONS);
  const newDir = tempDirs('static-membership');
  let transport: Transport;

  beforeAll(async () => {
    transport = createKafkaTransport({ brokers: kafkaBrokers! });
    await prefillTrajectories(transport, settings, EVENTS);
  });

  afterAll(async () => {
    await transport?.close();
  });

  it('gets its partitions back in under 5 s', async () => {
    const args = ['topologies/agent-recommender.ts', '--brokers', kafkaBrokers!, '--group', `${name}-group`];
    args.push('--state-dir', await newDir(), '--metrics-port', '0', '--instance-id', `${name}-node-1`);
    for (const [key, value] of Object.entries(settings)) args.push('--set', `${key}=${value}`);

    const first = new CliRun(args);
    try {
      await eventually(() => first.lineAfter('assigned partitions [0, 1]') !== undefined, 'the first run to own both partitions', {
        timeoutMs: 90_000,
        pollMs: 100,
      });
      await eventually(async () => ((await first.metric('agentrec_commits_total')) ?? 0) > 0, 'a first commit', { timeoutMs: 60_000 });
    } finally {
      await first.kill();
    }

    const spawnedAt = Date.now();
    const second = new CliRun(args);
    try {
      await eventually(() => second.lineAfter('assigned partitions [0, 1]') !== undefined, 'the restart to own both partitions', {
        timeoutMs: 60_000,
        pollMs: 50,
      });
      const joined = second.lineAfter('agentrec: running')!;
      const assigned = second.lineAfter('assigned partitions [0, 1]')!;
      const afterJoin = assigned.at - joined.at;
      console.log(`static membership: partitions back ${afterJoin} ms after joining (${assigned.at - spawnedAt} ms after spawn)`);
      expect(afterJoin, second.log).toBeLessThan(5000);
      expect(await second.stop(), second.log).toBe(0);
    } finally {
      await second.kill();
    }
  }, 240_000);
});
