import { expect, it } from 'vitest';
import { readiness, type ReadinessInput } from '../../../src/topology/runtime/readiness.js';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { startMetricsServer } from '../../../src/topology/runtime/metrics-server.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { mapValues } from '../../../src/operators/map-values.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';
import { Registry } from 'prom-client';

const healthy: ReadinessInput = {
  runner: 'running',
  connection: { reachable: true, since: 0 },
  group: { stable: true, state: 'up/steady' },
  assignedPartitions: [0, 1],
  restoringPartitions: [],
  now: 60_000,
};

it('is ready only when the runner runs, the broker answers, the group is stable and no restore runs', () => {
  expect(readiness(healthy)).toMatchObject({ ready: true, checks: { group: { detail: 'stable, 2 partition(s) assigned [0, 1]' } } });
  const down = readiness({ ...healthy, connection: { reachable: false, since: 48_000, lastError: 'all broker connections are down' } });
  expect(down.ready).toBe(false);
  expect(down.checks.broker).toEqual({ ok: false, detail: 'unreachable for 12 s (all broker connections are down)' });
  expect(readiness({ ...healthy, group: { stable: false, state: 'query-coord/init' } }).checks.group).toEqual({
    ok: false,
    detail: 'not stable (query-coord/init), 2 partition(s) assigned [0, 1]',
  });
  expect(readiness({ ...healthy, restoringPartitions: [1] })).toMatchObject({
    ready: false,
    checks: { restore: { ok: false, detail: 'restoring partition(s) [1]' } },
  });
  expect(readiness({ ...healthy, runner: 'starting' }).ready).toBe(false);
  // More instances than partitions: an instance without any is where it should be.
  expect(readiness({ ...healthy, assignedPartitions: [] }).ready).toBe(true);
});

it('serves /healthz, and /readyz with 503 and the reasons until the runner is ready', async () => {
  const t = topology('ready')
    .from('in', { topic: 'ready.in', partitions: 1 })
    .step(mapValues('bytes', (r: RawRecord) => r.value ?? Buffer.alloc(0)))
    .to('out', { topic: 'ready.out', serde: bytesSerde() });
  const runner = new TopologyRunner(t, { transport: createEmbeddedTransport(), stateBackend: 'memory', log: () => undefined });
  const server = await startMetricsServer(new Registry(), 0, '127.0.0.1', () => runner.readiness());
  try {
    const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
    expect(await (await fetch(url('/healthz'))).text()).toBe('ok');
    const before = await fetch(url('/readyz'));
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ ready: false, checks: { runner: { ok: false, detail: 'starting' } } });
    await runner.start();
    const after = await fetch(url('/readyz'));
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ ready: true, checks: { broker: { ok: true, detail: 'in-process log' } } });
    await runner.stop();
    expect((await fetch(url('/readyz'))).status).toBe(503);
  } finally {
    await server.close();
  }
});
