import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import agentRecommender, { simulate } from '../../topologies/agent-recommender.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { CliRun } from '../support/cli-run.js';
import { eventually } from '../support/eventually.js';
import { GroupProgress } from '../support/group-progress.js';
import { uniqueName } from '../support/kafka.js';
import { recommenderSettings, requestIdsIn, scoredRequestIds } from '../support/recommender-topics.js';
import { ScratchBroker, describeScratchBroker } from '../support/scratch-broker.js';

/** This test's own broker; never the shared one on 9092, nor broker-outage.test.ts's. */
const PORT = Number(process.env.AGENTREC_EOS_OUTAGE_BROKER_PORT ?? 19196);
const PARTITIONS = 2;
/** With the broker's restart, shorter than the session timeout (120 s here) and the transaction timeout (60 s). */
const OUTAGE_MS = 10_000;
const EVENTS = 3000;
const RATE = 150;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Under exactly-once a short broker outage is waited out like under at-least-once: the commit
 * that meets it retries until the transaction coordinator is back, and every request streamed
 * before, during and after is scored exactly once for read_committed readers.
 */
describeScratchBroker('a 10 s broker outage under exactly-once (own broker, real RocksDB)', () => {
  const broker = new ScratchBroker(PORT);
  const newDir = tempDirs('eos-outage');
  let transport: Transport;

  beforeAll(async () => {
    await broker.start();
    transport = createKafkaTransport({ brokers: broker.address });
  });

  afterAll(async () => {
    await transport?.close();
    await broker.remove();
  });

  it('lives through it and scores every request exactly once', async () => {
    const name = uniqueName('eos-outage');
    const settings = recommenderSettings(`${name}.in`, `${name}.scores`, PARTITIONS);
    const topology = agentRecommender({ transport: 'kafka', settings });
    await transport.ensureTopics([{ topic: topology.source.topic, partitions: PARTITIONS }]);
    const group = `${name}-group`;
    const args = ['topologies/agent-recommender.ts', '--brokers', broker.address, '--group', group];
    args.push('--state-dir', await newDir(), '--metrics-port', '0', '--commit-interval-ms', '1000');
    args.push('--instance-id', `${name}-node-1`, '--processing-guarantee', 'exactly-once');
    // The scratch broker takes 10-30 s to start again on this machine: the session must outlast
    // kill + outage + restart, or the group takes the partitions away (fatal under exactly-once).
    args.push('--session-timeout-ms', '120000');
    for (const [key, value] of Object.entries(settings)) args.push('--set', `${key}=${value}`);
    const run = new CliRun(args);
    const producer = transport.createProducer({ clientId: 'eos-outage-stream' });
    try {
      await eventually(async () => (await run.readyz())?.status === 200, 'the run to be ready', { timeoutMs: 90_000, pollMs: 200 });
      const streaming = simulate({
        topology,
        produce: (records) => producer.send(records),
        events: EVENTS,
        rate: RATE,
        signal: new AbortController().signal,
        log: () => undefined,
      });
      await eventually(async () => ((await run.metric('agentrec_commits_total')) ?? 0) > 0, 'a first commit', {
        timeoutMs: 60_000,
        pollMs: 200,
      });
      await sleep(2000);
      await broker.kill();
      await sleep(OUTAGE_MS);
      expect(run.running, `the run must live through the outage:\n${run.log}`).toBe(true);
      await broker.start({ keepData: true });
      await streaming;
      const progress = new GroupProgress(broker.address, group, topology.source.topic);
      try {
        await eventually(() => progress.caughtUp(), 'the group to consume the whole input', { timeoutMs: 120_000, pollMs: 500 }).catch(
          async (error: unknown) => {
            run.signal('SIGUSR2');
            await sleep(1000);
            throw new Error(`${String(error)}; committed ${JSON.stringify(await progress.offsets())}:\n${run.log}`);
          },
        );
      } finally {
        await progress.close();
      }
      expect(await run.stop(), run.log).toBe(0);

      const requests = await requestIdsIn(transport, topology.source.topic, PARTITIONS);
      const scored = await scoredRequestIds(transport, settings.outputTopic, PARTITIONS);
      expect(requests.size).toBeGreaterThan(EVENTS / 10);
      expect([...requests].filter((id) => !scored.has(id))).toEqual([]);
      const duplicates = [...scored.values()].reduce((sum, n) => sum + n - 1, 0);
      console.log(`exactly-once outage: ${requests.size} requests, all scored, ${duplicates} duplicate score records (read_committed)`);
      expect(duplicates).toBe(0);
    } finally {
      await producer.close();
      await run.kill();
    }
  }, 360_000);
});
