import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { eventually } from '../support/eventually.js';
import { expectEveryRequestScored } from '../support/every-request-scored.js';
import { untilGroupCaughtUp } from '../support/group-caught-up.js';
import { ScratchBroker, describeScratchBroker } from '../support/scratch-broker.js';
import { scratchBrokerTransport } from '../support/scratch-broker-transport.js';
import { startStreamedRecommenderRun } from '../support/streamed-recommender-run.js';

/** The outage test's own broker; never the shared one on 9092, which other work uses meanwhile. */
const PORT = Number(process.env.AGENTREC_OUTAGE_BROKER_PORT ?? 19192);
const PARTITIONS = 2;
const OUTAGE_MS = 60_000;
const EVENTS = 9000;
const RATE = 120;

/**
 * A broker outage longer than every Kafka timeout (delivery, session) is waited out: the broker
 * is killed mid-stream for 60 s and restarted on its data; the instance logs the loss within
 * 10 s, reports not ready (503) and broker_up 0 meanwhile, lives through it, becomes ready again,
 * and every request streamed before, during and after is scored at least once.
 */
describeScratchBroker('a 60 s broker outage mid-stream (own broker, real RocksDB)', () => {
  const broker = new ScratchBroker(PORT);
  const newDir = tempDirs('broker-outage');
  const transport = scratchBrokerTransport(broker);

  it('lives through it, readiness goes false then true, and every request is scored', async () => {
    const { settings, topology, group, run, streaming, close } = await startStreamedRecommenderRun(transport(), {
      brokers: broker.address,
      prefix: 'outage',
      partitions: PARTITIONS,
      stateDir: await newDir(),
      clientId: 'outage-stream',
      events: EVENTS,
      rate: RATE,
    });
    try {
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
      // The watch sets its gauge and logs on its own 1 s tick, which may come just after readiness saw the broker.
      await eventually(async () => (await run.metric('agentrec_broker_up')) === 1, 'agentrec_broker_up to be 1 again', {
        timeoutMs: 5000,
        pollMs: 100,
      });
      await eventually(() => run.lineAfter('Kafka answers again', restartedAt) !== undefined, 'the return to be logged', {
        timeoutMs: 5000,
      });
      const answeredAfterMs = run.lineAfter('Kafka answers again', restartedAt)!.at - restartedAt;

      await streaming;
      await untilGroupCaughtUp(broker.address, group, topology.source.topic);
      expect(await run.stop(), run.log).toBe(0);

      const scored = await expectEveryRequestScored(transport(), topology.source.topic, settings.outputTopic, PARTITIONS, EVENTS / 10);
      console.log(
        `broker outage: loss logged after ${loggedAfterMs} ms; broker seen again ${answeredAfterMs} ms and ready ` +
          `${readyAfterMs} ms after its restart began; ` +
          `${scored.requests} requests, all scored, ${scored.duplicates} duplicate score records`,
      );
    } finally {
      await close();
    }
  }, 360_000);
});
