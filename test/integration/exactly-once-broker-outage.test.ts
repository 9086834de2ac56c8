import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { eventually } from '../support/eventually.js';
import { expectEveryRequestScored } from '../support/every-request-scored.js';
import { untilGroupCaughtUp } from '../support/group-caught-up.js';
import { ScratchBroker, describeScratchBroker } from '../support/scratch-broker.js';
import { scratchBrokerTransport } from '../support/scratch-broker-transport.js';
import { startStreamedRecommenderRun } from '../support/streamed-recommender-run.js';

/** This test's own broker; never the shared one on 9092, nor broker-outage.test.ts's. */
const PORT = Number(process.env.AGENTREC_EOS_OUTAGE_BROKER_PORT ?? 19196);
const PARTITIONS = 2;
/** With the broker's restart, shorter than the session timeout (120 s here) and the transaction timeout (60 s). */
const OUTAGE_MS = 10_000;
const EVENTS = 3000;
const RATE = 150;

/**
 * Under exactly-once a short broker outage is waited out like under at-least-once: the commit
 * that meets it retries until the transaction coordinator is back, and every request streamed
 * before, during and after is scored exactly once for read_committed readers.
 */
describeScratchBroker('a 10 s broker outage under exactly-once (own broker, real RocksDB)', () => {
  const broker = new ScratchBroker(PORT);
  const newDir = tempDirs('eos-outage');
  const transport = scratchBrokerTransport(broker);

  it('lives through it and scores every request exactly once', async () => {
    const { settings, topology, group, run, streaming, close } = await startStreamedRecommenderRun(transport(), {
      brokers: broker.address,
      prefix: 'eos-outage',
      partitions: PARTITIONS,
      stateDir: await newDir(),
      // The scratch broker takes 10-30 s to start again on this machine: the session must outlast
      // kill + outage + restart, or the group takes the partitions away (fatal under exactly-once).
      extraArgs: ['--processing-guarantee', 'exactly-once', '--session-timeout-ms', '120000'],
      clientId: 'eos-outage-stream',
      events: EVENTS,
      rate: RATE,
    });
    try {
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
      await untilGroupCaughtUp(broker.address, group, topology.source.topic, async (error, progress) => {
        run.signal('SIGUSR2');
        await sleep(1000);
        throw new Error(`${String(error)}; committed ${JSON.stringify(await progress.offsets())}:\n${run.log}`);
      });
      expect(await run.stop(), run.log).toBe(0);

      const scored = await expectEveryRequestScored(transport(), topology.source.topic, settings.outputTopic, PARTITIONS, EVENTS / 10);
      console.log(
        `exactly-once outage: ${scored.requests} requests, all scored, ${scored.duplicates} duplicate score records (read_committed)`,
      );
      expect(scored.duplicates).toBe(0);
    } finally {
      await close();
    }
  }, 360_000);
});
