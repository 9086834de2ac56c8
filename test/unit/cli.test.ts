import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

/** The CLI as a user starts it, through tsx (the compiled CLI is the same code). */
function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
}

it('refuses a --linger-ms (or AGENTREC_LINGER_MS) that is not whole milliseconds, naming the option, before connecting', () => {
  // Port 1: nothing listens there, so only an error raised before connecting can explain the output.
  const flag = cli(['run', 'topologies/agent-recommender.ts', '--brokers', '127.0.0.1:1', '--linger-ms', 'soon']);
  expect(flag.status).toBe(1);
  expect(flag.stderr).toContain("[CONFIG_INVALID] --linger-ms: must be a whole number of milliseconds, got 'soon'");
  const env = cli(['run', 'topologies/agent-recommender.ts', '--brokers', '127.0.0.1:1'], { AGENTREC_LINGER_MS: '2.5' });
  expect(env.status).toBe(1);
  expect(env.stderr).toContain("got '2.5'");
  // Whole but out of range: the transport's own check, with its config path.
  const range = cli(['run', 'topologies/agent-recommender.ts', '--brokers', '127.0.0.1:1', '--linger-ms', '9999999']);
  expect(range.stderr).toContain('/producer/lingerMs: must be an integer in [0, 900000]');
});

it('refuses bad Kafka and commit flags naming the flag (or config path), before connecting', () => {
  const run = (...args: string[]) => cli(['run', 'topologies/agent-recommender.ts', '--brokers', '127.0.0.1:1', ...args]);
  expect(run('--session-timeout-ms', 'soon').stderr).toContain("[CONFIG_INVALID] --session-timeout-ms: must be a whole number, got 'soon'");
  expect(run('--session-timeout-ms', '10').stderr).toContain(
    '[CONFIG_INVALID] --session-timeout-ms: must be an integer in [1000, 3600000], got 10',
  );
  expect(run('--commit-interval-ms', '0').stderr).toContain(
    '[CONFIG_INVALID] --commit-interval-ms: must be an integer in [1, 86400000], got 0',
  );
  expect(cli(['run', 'topologies/agent-recommender.ts', '--brokers', '127.0.0.1:1'], { AGENTREC_INSTANCE_ID: 'a b' }).stderr).toContain(
    '/consumer/groupInstanceId: must be 1-249 characters',
  );
  const reserved = run('--kafka-config', 'enable.auto.commit=true');
  expect(reserved.status).toBe(1);
  expect(reserved.stderr).toContain('[CONFIG_INVALID] /librdkafka/enable.auto.commit: is set by the transport and cannot be overridden');
  const secret = run('--kafka-config', 'security.protocol=SASL_PLAINTEXT', '--kafka-config', 'sasl.mechanism=hunter2');
  expect(secret.status).toBe(1);
  expect(secret.stderr).toContain('[CONFIG_INVALID] /librdkafka: librdkafka refused the configuration');
  expect(secret.stderr).not.toContain('hunter2');
});

it('refuses a bad --processing-guarantee (or AGENTREC_PROCESSING_GUARANTEE), and exactly-once without Kafka, naming the flag', () => {
  const flag = cli(['run', 'topologies/agent-recommender.ts', '--brokers', '127.0.0.1:1', '--processing-guarantee', 'exactly_once']);
  expect(flag.status).toBe(1);
  expect(flag.stderr).toContain("[CONFIG_INVALID] --processing-guarantee: must be 'at-least-once' or 'exactly-once', got 'exactly_once'");
  const env = cli(['run', 'topologies/agent-recommender.ts', '--brokers', '127.0.0.1:1'], { AGENTREC_PROCESSING_GUARANTEE: 'once' });
  expect(env.stderr).toContain("got 'once'");
  const embedded = cli(['run', 'topologies/agent-recommender.ts', '--processing-guarantee', 'exactly-once']);
  expect(embedded.status).toBe(1);
  expect(embedded.stderr).toContain('[CONFIG_INVALID] --processing-guarantee: exactly-once needs Kafka (--brokers)');
  const interval = cli([
    'run',
    'topologies/agent-recommender.ts',
    '--brokers',
    '127.0.0.1:1',
    '--processing-guarantee',
    'exactly-once',
    '--commit-interval-ms',
    '60000',
  ]);
  expect(interval.stderr).toContain(
    '[CONFIG_INVALID] --commit-interval-ms: must be below 60000 with --processing-guarantee exactly-once (the transaction timeout), got 60000',
  );
});
