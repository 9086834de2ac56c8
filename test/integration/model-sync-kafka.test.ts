import { expect, it } from 'vitest';
import { recommenderModel } from '../../src/recommender/model/recommender-model.js';
import { modelSyncTopicSpec, resolveModelSyncConfig } from '../../src/recommender/sync/model-sync-config.js';
import type { ModelSyncLog } from '../../src/recommender/sync/model-sync.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import { maxAbsDifference, SyncedTask, traffic } from '../unit/recommender/sync/model-sync-harness.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';

/**
 * Model sync over a real broker, through the readers the Kafka transport keeps connected between
 * syncs (readToEndReused): two tasks learning different users' feedback end with the same shared
 * rows and dense weights once every delta was read, as they do on the embedded log.
 */
describeKafka('model sync on Kafka', () => {
  it('two tasks converge on their shared rows through the model topic', async () => {
    const kafka = createKafkaTransport({ brokers: kafkaBrokers! });
    try {
      const topic = uniqueName('rec.model');
      await kafka.ensureTopics([modelSyncTopicSpec(resolveModelSyncConfig({ topic, everyEvents: 1 }))]);
      const producer = kafka.createProducer();
      const log: ModelSyncLog = { produce: (records) => producer.send(records), readToEnd: (tp, from) => kafka.readToEndReused!(tp, from) };
      const model = () => recommenderModel({ name: 'rec', dim: 4, maxCandidates: 8 });
      const shared = { features: ['tool=git', 'tool=npm', 'domain=web'], actions: ['a0', 'a1', 'a2', 'a3'] };
      const dataA = traffic({ ...shared, users: ['u1', 'u2'], preferred: ['a0'], count: 96, seed: 1 });
      const dataB = traffic({ ...shared, users: ['v1', 'v2'], preferred: ['a3'], count: 96, seed: 2 });
      const a = new SyncedTask(model(), new MemoryStore(), log, { partition: 0, everyEvents: 16, topic });
      const b = new SyncedTask(model(), new MemoryStore(), log, { partition: 1, everyEvents: 16, topic });
      for (let at = 0; at < dataA.length; at += 8) {
        await a.learnBatch(dataA.slice(at, at + 8));
        await b.learnBatch(dataB.slice(at, at + 8));
      }
      // Every delta read by every task; each sync's deltas acknowledged before the next task reads, as a commit ensures.
      for (const t of [a, b, a]) {
        await t.sync.sync(Date.now());
        await (
          await t.sync.published()
        ).delivered;
      }

      const rowsA = await a.values(['feature', 'action']);
      const rowsB = await b.values(['feature', 'action']);
      expect(rowsA.size).toBe(shared.features.length + shared.actions.length);
      let worst = 0;
      for (const [key, values] of rowsA) worst = Math.max(worst, maxAbsDifference(values, rowsB.get(key)!));
      expect(worst).toBeLessThan(1e-5);
      expect(maxAbsDifference(a.task.dense, b.task.dense)).toBeLessThan(1e-5);
    } finally {
      await kafka.close();
    }
  }, 60_000);
});
