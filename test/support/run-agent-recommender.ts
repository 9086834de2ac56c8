/**
 * Test-only entry point: runs topologies/agent-recommender.ts on Kafka the way `agentrec run`
 * does, with what crash tests need on top: a short session timeout and static group membership
 * (a restarted process takes its partitions back at once instead of waiting for the killed
 * member's session to expire), a configurable commit interval and batch size, and an optional
 * self-kill that leaves one store a commit behind the others. Run it as `node --import tsx test/support/run-agent-recommender.ts`
 * so the process that is killed is the one holding the state (npx/tsx would add a parent).
 *
 *   --brokers h:p --group g --state-dir d [--set k=v]... [--commit-interval-ms n]
 *   [--max-batch n] [--instance-id id] [--kill-before-write <store>:<n>]
 *   [--processing-guarantee exactly-once] (transactional id `<group>-<instance-id>`) [--transaction-timeout-ms n]
 *
 * Prints `agentrec-test: running` once the runner started; SIGTERM stops it gracefully (exit 0).
 */
import { parseArgs } from 'node:util';
import { processingGuaranteeFlag, transactionalIdFor } from '../../src/cli/run-options.js';
import { errorMessage } from '../../src/errors.js';
import { openTaskStore } from '../../src/topology/runtime/open-task-store.js';
import { TopologyRunner } from '../../src/topology/runtime/topology-runner.js';
import { loadTopologyModule } from '../../src/topology/topology-module.js';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import { RUNNING_LINE } from './recommender-process.js';
import { SelfKillingStore } from './self-killing-store.js';

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      brokers: { type: 'string' },
      group: { type: 'string' },
      'state-dir': { type: 'string' },
      set: { type: 'string', multiple: true },
      'commit-interval-ms': { type: 'string' },
      'max-batch': { type: 'string' },
      'instance-id': { type: 'string' },
      'kill-before-write': { type: 'string' },
      'processing-guarantee': { type: 'string' },
      'transaction-timeout-ms': { type: 'string' },
    },
  });
  if (!values.brokers || !values.group || !values['state-dir']) throw new Error('--brokers, --group and --state-dir are required');
  const settings = Object.fromEntries((values.set ?? []).map((kv) => [kv.split('=')[0], kv.split('=').slice(1).join('=')]));
  const { topology } = await loadTopologyModule('topologies/agent-recommender.ts', { transport: 'kafka', settings });
  const [killStore, killOnFlush] = (values['kill-before-write'] ?? ':').split(':');

  let failure: unknown;
  const stop = new AbortController();
  const transport = createKafkaTransport({
    brokers: values.brokers,
    consumer: {
      maxBatchSize: values['max-batch'] ? Number(values['max-batch']) : undefined,
      sessionTimeoutMs: 6000,
      librdkafka: values['instance-id'] ? { 'group.instance.id': values['instance-id'] } : {},
    },
    producer: {
      transactionTimeoutMs: values['transaction-timeout-ms'] ? Number(values['transaction-timeout-ms']) : undefined,
    },
    onError: (error) => {
      failure ??= error;
      stop.abort();
    },
  });
  const runner = new TopologyRunner(topology, {
    transport,
    groupId: values.group,
    stateDir: values['state-dir'],
    commitIntervalMs: Number(values['commit-interval-ms'] ?? 1000),
    metricsPort: 0,
    processingGuarantee: processingGuaranteeFlag(values['processing-guarantee'], true),
    transactionalId: transactionalIdFor(values.group, values['instance-id']),
    log: (message) => process.stderr.write(`[agentrec +${Math.round(performance.now())} ms] ${message}\n`),
    openStore: async (t, store, partition, config) => {
      const opened = await openTaskStore(t, store, partition, config);
      return store === killStore ? new SelfKillingStore(opened, Number(killOnFlush)) : opened;
    },
  });
  process.on('SIGTERM', () => stop.abort());
  process.on('SIGUSR2', () => process.stderr.write(`agentrec-test: state ${JSON.stringify(runner.describe())}\n`));
  await runner.start();
  process.stderr.write(`${RUNNING_LINE} (metrics on port ${runner.metricsPort})\n`);
  await Promise.race([
    new Promise((resolve) => stop.signal.addEventListener('abort', resolve)),
    runner.done.catch((error: unknown) => (failure ??= error)),
  ]);
  await runner.stop().catch((error: unknown) => (failure ??= error));
  await transport.close();
  if (failure !== undefined) {
    process.stderr.write(`agentrec-test: failed: ${errorMessage(failure)}\n`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`agentrec-test: ${errorMessage(error)}\n`);
    process.exit(1);
  },
);
