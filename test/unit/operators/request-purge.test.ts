import { describe, expect, it } from 'vitest';
import { ModelTask } from '../../../src/operators/recommender/model-task.js';
import { recommenderModel } from '../../../src/operators/recommender/recommender-model.js';
import { RequestExpiry } from '../../../src/operators/recommender/request-expiry.js';
import { encodeRequestSnapshot, requestSnapshotTime } from '../../../src/operators/recommender/request-snapshot-codec.js';
import type { RequestSnapshot } from '../../../src/operators/recommender/types.js';
import { MemoryStore } from '../../../src/state/memory-store.js';

const T0 = Date.UTC(2026, 11, 2);
const TTL = 60_000;

function snapshot(requestId: string, eventTime: number): RequestSnapshot {
  return { requestId, userId: 'u', eventTime, features: [{ key: 'tool=git', weight: 1 }], candidates: ['a', 'b'] };
}

async function storedTimes(store: MemoryStore): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const [key, value] of store.range()) out.set(key.toString(), requestSnapshotTime(value));
  return out;
}

describe('purging stored requests past their TTL', () => {
  it('deletes exactly the stored requests older than the cutoff, as a full scan would, across restored state, re-stored ids and late events', async () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const model = recommenderModel({ name: 'rec', dim: 4, requestTtlMs: TTL });
    const requests = new MemoryStore('requests');
    // State restored before the task started: only a scan can find it.
    const reference = new Map<string, number>();
    for (let i = 0; i < 50; i++) {
      const time = T0 - Math.floor(random() * 2 * TTL);
      await requests.put(Buffer.from(`old-${i}`), encodeRequestSnapshot(snapshot(`old-${i}`, time)));
      reference.set(`old-${i}`, time);
    }
    const task = new ModelTask(model, new MemoryStore('rows'), requests, 0);
    let now = T0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 30; i++) {
        // Mostly in time order, some late, and ids that come back (stored again, older or newer).
        const id = random() < 0.2 ? `req-${Math.floor(random() * round * 30)}` : `req-${round * 30 + i}`;
        const time = now - Math.floor(random() < 0.1 ? random() * 2 * TTL : random() * 1000);
        await task.storeRequest(snapshot(id, time));
        reference.set(id, time);
      }
      now += TTL / 4;
      const purged = await task.purgeRequests(now);
      const expected = [...reference].filter(([, time]) => now - time > TTL).map(([id]) => id);
      for (const id of expected) reference.delete(id);
      expect(purged, `round ${round}`).toBe(expected.length);
      expect(await storedTimes(requests), `round ${round}`).toEqual(reference);
    }
    expect(reference.size).toBeGreaterThan(0);
  });
});

describe('RequestExpiry', () => {
  it('pops keys in time order up to the cutoff, and lists nothing until a scan rebuilt it', () => {
    const expiry = new RequestExpiry(1000);
    expiry.add(5, Buffer.from('ignored'));
    expect(expiry.complete).toBe(false);
    expect(expiry.size).toBe(0);
    expiry.rebuild([{ time: 9, key: Buffer.from('nine') }]);
    expect(expiry.complete).toBe(true);
    let seed = 3;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const times = Array.from({ length: 300 }, () => Math.floor(random() * 100));
    times.forEach((time, i) => expiry.add(time, Buffer.from(`${time}:${i}`)));
    const popped = [...expiry.popBefore(50), ...expiry.popBefore(101)].map((key) => Number(key.toString().split(':')[0]));
    expect(popped).toHaveLength(301);
    expect(popped).toEqual([...popped].sort((a, b) => a - b));
    expect(popped.filter((time) => time < 50)).toHaveLength(times.filter((time) => time < 50).length);
  });

  it('gives up past its bound, so purges go back to scanning instead of growing without limit', () => {
    const expiry = new RequestExpiry(3);
    expiry.rebuild([{ time: 1, key: Buffer.from('a') }]);
    expiry.add(2, Buffer.from('b'));
    expiry.add(3, Buffer.from('c'));
    expect([expiry.complete, expiry.size]).toEqual([true, 3]);
    expiry.add(4, Buffer.from('d'));
    expect([expiry.complete, expiry.size]).toEqual([false, 0]);
    expiry.rebuild([1, 2, 3, 4].map((time) => ({ time, key: Buffer.from(String(time)) })));
    expect(expiry.complete).toBe(false);
  });
});
