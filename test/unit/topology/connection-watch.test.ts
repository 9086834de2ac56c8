import { expect, it } from 'vitest';
import { RuntimeMetrics } from '../../../src/metrics.js';
import { ConnectionWatch } from '../../../src/topology/runtime/connection-watch.js';
import type { ConnectionStatus } from '../../../src/topology/transport/types.js';

it('logs a lost broker at once, reminds with a doubling interval, logs its return and exports it', async () => {
  let now = 0;
  let status: ConnectionStatus = { reachable: true, since: 0 };
  const lines: string[] = [];
  const metrics = new RuntimeMetrics();
  const watch = new ConnectionWatch({
    status: () => status,
    describeLog: 'Kafka',
    topology: 't',
    metrics,
    log: (line) => lines.push(`${now / 1000}: ${line}`),
    now: () => now,
  });
  const gauge = async () => (await metrics.brokerUp.get()).values[0]?.value;
  const tick = (toMs: number) => {
    for (; now < toMs; now += 1000) watch.check();
  };

  tick(5000);
  expect(await gauge()).toBe(1);
  expect(lines).toEqual([]);
  status = { reachable: false, since: 4500, lastError: 'all broker connections are down' };
  tick(200_000);
  expect(await gauge()).toBe(0);
  expect(watch.outageMs).toBe(200_000 - 4500);
  expect(lines.map((line) => line.split(':')[0])).toEqual(['5', '15', '35', '75', '155']);
  expect(lines[0]).toContain('lost the connection to Kafka (all broker connections are down)');
  expect(lines[1]).toContain('still no connection to Kafka after 11 s');
  status = { reachable: true, since: 200_000 };
  tick(202_000);
  expect(await gauge()).toBe(1);
  expect(watch.outageMs).toBeUndefined();
  expect(lines.at(-1)).toBe('200: Kafka answers again after 196 s');
  expect((await metrics.brokerDisconnects.get()).values[0].value).toBe(1);
});
