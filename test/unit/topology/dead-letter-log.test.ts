import { afterEach, describe, expect, it } from 'vitest';
import { AgentrecError } from '../../../src/errors.js';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { DeadLetterLog } from '../../../src/topology/runtime/dead-letter-log.js';
import { startMetricsServer } from '../../../src/topology/runtime/metrics-server.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { recordStep } from '../../../src/topology/step.js';
import { TopologyTestDriver } from '../../../src/topology/test-driver.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';
import { Registry } from 'prom-client';

describe('DeadLetterLog', () => {
  it('writes at most one line per step per interval, then counts what it left out', () => {
    const lines: string[] = [];
    let clock = 0;
    const log = new DeadLetterLog(
      (line) => lines.push(line),
      1000,
      () => clock,
    );
    const where = { topic: 'in', partition: 2, offset: 0 };
    for (let i = 0; i < 500; i++) log.record('decode', 'DECODE_FAILED', { ...where, offset: i });
    log.record('score', 'ENCODE_FAILED', where);
    clock = 1500;
    log.record('decode', 'DECODE_FAILED', { ...where, offset: 500 });
    expect(lines).toEqual([
      "dead-lettered in[2]@0 at step 'decode': DECODE_FAILED",
      "dead-lettered in[2]@0 at step 'score': ENCODE_FAILED",
      "dead-lettered in[2]@500 at step 'decode': DECODE_FAILED (+499 more at this step since the last line)",
    ]);
  });
});

describe('dead letters on the embedded log', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => driver?.close());

  it('a flood of bad records writes few log lines, none carrying a field value', async () => {
    const t = topology('flood')
      .from('in', { topic: 'flood.in', partitions: 2 })
      .step(
        recordStep<RawRecord, Buffer>('parse', 'parse', () => (raw) => {
          throw new AgentrecError('DECODE_FAILED', `not JSON: ${raw.value?.toString()}`);
        }),
      )
      .to('out', { topic: 'flood.out', serde: bytesSerde() });
    const lines: string[] = [];
    driver = await TopologyTestDriver.start(t, { log: (line) => lines.push(line) });
    for (let i = 0; i < 2000; i++) driver.pipeInput(`user-${i}`, Buffer.from(`secret-email-${i}@example.com`));
    await driver.settle();
    expect(await driver.metrics.total('deadLettered', 'parse')).toBe(2000);
    const deadLetterLines = lines.filter((line) => line.startsWith('dead-lettered'));
    expect(deadLetterLines.length).toBeGreaterThanOrEqual(1);
    expect(deadLetterLines.length).toBeLessThanOrEqual(3);
    expect(deadLetterLines.join('\n')).not.toMatch(/secret-email|user-/);
    expect(deadLetterLines[0]).toMatch(/^dead-lettered flood\.in\[\d\]@\d+ at step 'parse': DECODE_FAILED$/);
  });
});

describe('metrics server host', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it('binds loopback by default, so /metrics is not exposed beyond the host', async () => {
    const t = topology('metrics-host')
      .from('in', { topic: 'mh.in', partitions: 1 })
      .step(recordStep<RawRecord, Buffer>('copy', 'copy', () => (raw) => raw.value ?? Buffer.alloc(0)))
      .to('out', { topic: 'mh.out', serde: bytesSerde() });
    const runner = new TopologyRunner(t, {
      transport: createEmbeddedTransport(),
      stateBackend: 'memory',
      metricsPort: 0,
      log: () => undefined,
    });
    stops.push(() => runner.stop());
    await runner.start();
    expect(runner.config.metricsHost).toBe('127.0.0.1');
    expect(runner.metricsHost).toBe('127.0.0.1');
    const response = await fetch(`http://127.0.0.1:${runner.metricsPort}/healthz`);
    expect(await response.text()).toBe('ok');
  });

  it('listens on the host it is given, and on no other address', async () => {
    // 127.0.0.2 is loopback too on Linux, but a socket bound to it does not answer 127.0.0.1.
    const server = await startMetricsServer(new Registry(), 0, '127.0.0.2');
    stops.push(() => server.close());
    expect(server.host).toBe('127.0.0.2');
    expect(await (await fetch(`http://127.0.0.2:${server.port}/healthz`)).text()).toBe('ok');
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
  });
});
