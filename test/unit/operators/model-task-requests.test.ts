import { describe, expect, it } from 'vitest';
import { ModelTask } from '../../../src/operators/recommender/model-task.js';
import { recommenderModel } from '../../../src/operators/recommender/recommender-model.js';
import type { RequestSnapshot } from '../../../src/operators/recommender/types.js';
import { MemoryStore } from '../../../src/state/memory-store.js';

const HOUR = 3600_000;
const model = recommenderModel({ name: 'rec', dim: 8, requestTtlMs: HOUR });

function snapshot(requestId: string, eventTime: number): RequestSnapshot {
  return {
    requestId,
    userId: `user-${requestId}`,
    eventTime,
    features: [{ key: 'tool=git', weight: 1 }, { key: 'text.request#17', weight: 0.3779644730092272 }],
    candidates: ['a', 'b', 'c'],
    dense: [0.1, -0.25].map(Math.fround),
  };
}

describe('ModelTask scored requests', () => {
  it('finds a request it stored from memory exactly as a fresh task (after a restart) decodes it from the store', async () => {
    const rows = new MemoryStore('rows');
    const requests = new MemoryStore('requests');
    const task = new ModelTask(model, rows, requests, 0);
    await task.storeRequest(snapshot('r1', 1000));
    await task.storeRequest({ ...snapshot('r2', 2000), dense: undefined });
    const live = await task.findRequests(['r2', 'missing', 'r1']);
    const restarted = await new ModelTask(model, rows, requests, 0).findRequests(['r2', 'missing', 'r1']);
    expect(restarted[0]).toBeDefined();
    expect(live).toEqual(restarted);
    expect(live[1]).toBeUndefined();
  });

  it('forgets purged requests in memory too, so an out-of-order feedback finds the same thing with or without a restart', async () => {
    const requests = new MemoryStore('requests');
    const task = new ModelTask(model, new MemoryStore('rows'), requests, 0);
    await task.storeRequest(snapshot('old', 1000));
    await task.storeRequest(snapshot('new', 1000 + 2 * HOUR));
    expect(await task.purgeRequests(1000 + 2 * HOUR)).toBe(1);
    expect(await task.findRequests(['old', 'new'])).toEqual([undefined, snapshot('new', 1000 + 2 * HOUR)]);
    expect(await requests.get(Buffer.from('old'))).toBeUndefined();
  });
});
