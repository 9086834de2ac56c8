import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/recommender/records.js';
import { avroSerde } from '../../src/serde/avro-serde.js';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import agentRecommender, { simulate } from '../../topologies/agent-recommender.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { CliRun } from '../support/cli-run.js';
import { eventually } from '../support/eventually.js';
import { GroupProgress } from '../support/group-progress.js';
import { uniqueName } from '../support/kafka.js';
import { recommenderSettings, scoredRequestIds } from '../support/recommender-topics.js';
import { ScratchBroker, describeScratchBroker } from '../support/scratch-broker.js';

/** The outage test's own broker; never the shared one on 9092, which other work uses meanwhile. */
const PORT = Number(process.env.AGENTREC_OUTAGE_BROKER_PORT ?? 19192);
const PARTITIONS = 2;
const OUTAGE_MS = 60_000;
const EVENTS = 9000;
const RATE = 120;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A broker outage longer than every Kafka timeout (delivery, session) is waited out: the broker
 * is killed mid-stream for 60 s and restarted on its data; the instance logs the loss within
 * 10 s, reports not ready (503) and broker_up 0 meanwhile, lives through it, becomes ready again,
 * and every request streamed before, during and after is scored at least once.
 */
describeScratchBroker('a 60 s broker outage mid-stream (own broker, real RocksDB)', () => {
  const broker = new ScratchBroker(PORT);
  const newDir = tempDirs('broker-outage');
  let transport: Transport;

  beforeAll(async () => {
    await broker.start();
    transport = createKafkaTransport({ brokers: broker.address });
  });

  afterAll(async () => {
    await transport?.close();
    await broker.remove();
  });

  it('lives through it, readiness goes false then true, and every request is scored', async () => {
    const name = uniqueName('outage');
    const settings = recommenderSettings(`${name}.in`, `${name}.scores`, PARTITIONS);
    const topology = agentRecommender({ transport: 'kafka', settings });
    await transport.ensureTopics([{ topic: topology.source.topic, partitions: PARTITIONS }]);
    const group = `${name}-group`;
    const args = ['topologies/agent-recommender.ts', '--brokers', broker.address, '--group', group];
    args.push('--state-dir', await newDir(), '--metrics-port', '0', '--commit-interval-ms', '1000');
    // Static membership, as in production: the session expires during the outage, and without an
    // instance id the group would wait out the expired member's session (30 s) once the broker is back.
    args.push('--instance-id', `${name}-node-1`);
    for (const [key, value] of Object.entries(settings)) args.push('--set', `${key}=${value}`);
    const run = new CliRun(args);
    const producer = transport.createProducer({ clientId: 'outage-stream' });
    let streaming: Promise<void> | undefined;
    try {
      await eventually(async () => (await run.readyz())?.status === 200, 'the run to be ready', { timeoutMs: 90_000, pollMs: 200 });
      streaming = simulate({
        topology,
        produce: (records) => producer.send(records),
        events: EVENTS,
        rate: RATE,
        signal: new AbortController().signal,
        log: () => undefined,
      });
      await eventually(async () => ((await run.metric('agentrec_records_out_total')) ?? 0) > 0, 'first scores', {
        timeoutMs: 60_000,
        pollMs: 200,
      });
      await sleep(5000);

      const killedAt = Date.now();
      await broker.kill();
      await eventually(() => run.lineAfter('lost the connection to Kafka', killedAt) !== undefined, 'the loss to be logged', {
        timeoutMs: 10_000,
        pollMs: 100,
      });
      const loggedAfterMs = run.lineAfter('lost the connection to Kafka', killedAt)!.at - killedAt;
      await eventually(async () => (await run.readyz())?.status === 503, 'readiness to turn false', { timeoutMs: 10_000, pollMs: 200 });
      const unready = (await run.readyz())!;
      expect(unready.body.checks.broker.ok).toBe(false);
      expect(await run.metric('agentrec_broker_up')).toBe(0);
      await eventually(() => run.lineAfter('Kafka unreachable for', killedAt) !== undefined, 'the outage on the progress line', {
        timeoutMs: 10_000,
      });

      await sleep(killedAt + OUTAGE_MS - Date.now());
      expect(run.running, `the run must live through the outage:\n${run.log}`).toBe(true);
      expect(run.lineAfter('still no connection to Kafka', killedAt), run.log).toBeDefined();
      expect((await run.readyz())?.status).toBe(503);

      const restartedAt = Date.now();
      await broker.start({ keepData: true });
      await eventually(async () => (await run.readyz())?.status === 200, 'readiness to turn true again', {
        timeoutMs: 120_000,
        pollMs: 200,
      });
      const readyAfterMs = Date.now() - restartedAt;
      const answeredAfterMs = run.lineAfter('Kafka answers again', restartedAt)!.at - restartedAt;
      expect(await run.metric('agentrec_broker_up')).toBe(1);
      // The watch logs on its own 1 s tick, which may come just after readiness saw the broker.
      await eventually(() => run.lineAfter('Kafka answers again', restartedAt) !== undefined, 'the return to be logged', {
        timeoutMs: 5000,
      });

      await streaming;
      const progress = new GroupProgress(broker.address, group, topology.source.topic);
      try {
        await eventually(() => progress.caughtUp(), 'the group to consume the whole input', { timeoutMs: 120_000, pollMs: 500 });
      } finally {
        await progress.close();
      }
      expect(await run.stop(), run.log).toBe(0);

      const requests = await requestIds(transport, topology.source.topic);
      const scored = await scoredRequestIds(transport, settings.outputTopic, PARTITIONS);
      expect(requests.size).toBeGreaterThan(EVENTS / 10);
      expect([...requests].filter((id) => !scored.has(id))).toEqual([]);
      const duplicates = [...scored.values()].reduce((sum, n) => sum + n - 1, 0);
      console.log(
        `broker outage: loss logged after ${loggedAfterMs} ms; broker seen again ${answeredAfterMs} ms and ready ` +
          `${readyAfterMs} ms after its restart began; ` +
          `${requests.size} requests, all scored, ${duplicates} duplicate score records`,
      );
    } finally {
      await producer.close();
      await run.kill();
    }
  }, 360_000);
});

/** The request id of every REQUEST in the input topic. */
async function requestIds(transport: Transport, topic: string): Promise<Set<string>> {
  const serde = avroSerde<TrajectoryEvent>('trajectory-event');
  const ids = new Set<string>();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for await (const chunk of transport.readToEnd({ topic, partition })) {
      for (const record of chunk) {
        const event = serde.deserialize(record.value!);
        if (event.kind === 'REQUEST') ids.add(event.requestId ?? event.eventId);
      }
    }
  }
  return ids;
}
