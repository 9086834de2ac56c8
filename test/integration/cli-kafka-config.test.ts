import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';

describeKafka('agentrec run with librdkafka settings', () => {
  it('runs end to end with --kafka-config and AGENTREC_KAFKA_*, showing no credential', async () => {
    const args = ['--import', 'tsx', 'src/cli.ts', 'run', 'topologies/agent-recommender.ts', '--brokers', kafkaBrokers!];
    args.push('--group', uniqueName('cli-config'), '--memory-state', '--metrics-port', '0', '--instance-id', uniqueName('node'));
    args.push('--kafka-config', `client.id=${uniqueName('client')}`, '--kafka-config', 'sasl.password=hunter2');
    const child = spawn(process.execPath, args, {
      env: { ...process.env, AGENTREC_KAFKA_SOCKET_KEEPALIVE_ENABLE: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await eventually(() => stderr.includes('assigned partitions'), 'the run to join its group', { timeoutMs: 60_000, pollMs: 100 });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('socket.keepalive.enable=true');
    expect(stderr).toContain('sasl.password=[redacted]');
    expect(stderr).not.toContain('hunter2');
  }, 90_000);
});
