import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Topology } from '../../src/topology/topology.js';
import type { LibrdkafkaProperties } from '../../src/topology/transport/kafka-options.js';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import agentRecommender, { simulate } from '../../topologies/agent-recommender.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { CliRun } from '../support/cli-run.js';
import { eventually } from '../support/eventually.js';
import { uniqueName } from '../support/kafka.js';
import { recommenderSettings, requestIdsIn, scoredRequestIds } from '../support/recommender-topics.js';
import { ScratchBroker, describeScratchBroker } from '../support/scratch-broker.js';

/**
 * The secured-broker test's own broker: PLAINTEXT on PORT (inter-broker traffic only, nothing in
 * this test dials it), SASL_PLAINTEXT on PORT+2, SASL_SSL on PORT+3; never the shared one on 9092.
 */
const PORT = Number(process.env.AGENTREC_SECURED_BROKER_PORT ?? 19292);
const PARTITIONS = 2;
/** simulate() produces in chunks of 500; both halves are whole chunks so they hold different events. */
const HALF = 1000;
const USER = 'agentrec';
/** Random per run, so a test that finds it in some output found a real leak. */
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

const sasl = { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': USER };

/**
 * The recommender against a broker that requires SASL/PLAIN: the CLI is given only the secured
 * listener, so its consumer, producers, the admin client that creates changelog topics and the
 * restore readers all authenticate (a broker's metadata names the listener a client came in on,
 * so no client is ever pointed at the PLAINTEXT one). The password reaches the CLI through
 * AGENTREC_KAFKA_SASL_PASSWORD and must never show in its output.
 */
describeScratchBroker('the recommender on a secured broker (own broker, SASL/PLAIN and SASL_SSL)', () => {
  const broker = new ScratchBroker(PORT, { sasl: { user: USER, password: PASSWORD }, ssl: true });
  const newDir = tempDirs('secured-broker');
  const transports: Transport[] = [];
  const secured = (brokers: string, librdkafka: LibrdkafkaProperties) => {
    const transport = createKafkaTransport({ brokers, librdkafka: { ...librdkafka, 'sasl.password': PASSWORD } });
    transports.push(transport);
    return transport;
  };

  beforeAll(async () => {
    await broker.start();
  });

  afterAll(async () => {
    await Promise.allSettled(transports.map((transport) => transport.close()));
    await broker.remove();
  });

  it('scores every request over SASL_PLAINTEXT, restores from changelogs through it, shows no password', async () => {
    const transport = secured(broker.saslAddress, sasl);
    const name = uniqueName('sasl');
    const settings = recommenderSettings(`${name}.in`, `${name}.scores`, PARTITIONS);
    const topology = agentRecommender({ transport: 'kafka', settings });
    await transport.ensureTopics([{ topic: topology.source.topic, partitions: PARTITIONS }]);
    await produceSimulated(transport, topology, 0, HALF);

    const args = (stateDir: string) => {
      const list = ['topologies/agent-recommender.ts', '--brokers', broker.saslAddress, '--group', `${name}-group`];
      list.push('--state-dir', stateDir, '--metrics-port', '0', '--commit-interval-ms', '1000');
      for (const [key, value] of Object.entries(sasl)) list.push('--kafka-config', `${key}=${value}`);
      for (const [key, value] of Object.entries(settings)) list.push('--set', `${key}=${value}`);
      return list;
    };
    const env = { AGENTREC_KAFKA_SASL_PASSWORD: PASSWORD };

    const first = new CliRun(args(await newDir()), { env });
    try {
      await allScored(transport, settings, 'the first run to score the first half');
      expect(await first.stop(), first.log).toBe(0);
    } finally {
      await first.kill();
    }
    expect(first.log).toContain('security.protocol=SASL_PLAINTEXT');
    expect(first.log).toContain('sasl.password=[redacted]');

    // A fresh state directory: every store comes back from its changelog, read through SASL.
    const second = new CliRun(args(await newDir()), { env });
    try {
      await eventually(() => restoredEntries(second.log, 'rec') > 0, "the second run to restore 'rec' from its changelog", {
        timeoutMs: 90_000,
        pollMs: 200,
      });
      await produceSimulated(transport, topology, HALF, 2 * HALF);
      await allScored(transport, settings, 'the second run to score the second half');
      expect(await second.stop(), second.log).toBe(0);
    } finally {
      await second.kill();
    }

    for (const run of [first, second]) expect(run.log).not.toContain(PASSWORD);
    // The broker hides it too (its config is logged with [hidden] values).
    expect(readFileSync(broker.logFile, 'utf8')).not.toContain(PASSWORD);
    console.log(
      `secured broker: ${(await requestIdsIn(transport, settings.inputTopic, PARTITIONS)).size} requests scored over SASL_PLAINTEXT; ` +
        `restored ${restoredEntries(second.log, 'rec')} 'rec' entries through it`,
    );
  }, 300_000);

  it('fails at once with a clear error on a wrong password, showing neither password', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const args = ['topologies/agent-recommender.ts', '--brokers', broker.saslAddress, '--group', uniqueName('sasl-wrong')];
    args.push('--memory-state', '--metrics-port', '0');
    for (const [key, value] of Object.entries(sasl)) args.push('--kafka-config', `${key}=${value}`);
    const run = new CliRun(args, { env: { AGENTREC_KAFKA_SASL_PASSWORD: wrong } });
    const started = Date.now();
    try {
      const code = await Promise.race([run.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 60_000))]);
      expect(code, run.log).toBe(1);
    } finally {
      await run.kill();
    }
    console.log(`secured broker: a wrong password failed the run after ${Date.now() - started} ms`);
    expect(run.log).toMatch(
      /\[CONFIG_INVALID\] --kafka-config: Kafka at 127\.0\.0\.1:\d+ refused the connection \(SASL_PLAINTEXT, PLAIN\): SASL authentication error: Authentication failed: Invalid username or password/,
    );
    expect(run.log).not.toContain(wrong);
    expect(run.log).not.toContain(PASSWORD);
  }, 90_000);

  it("scores requests over SASL_SSL, trusting the broker's self-signed certificate", async () => {
    const tls = { ...sasl, 'security.protocol': 'SASL_SSL', 'ssl.ca.location': broker.caLocation };
    const transport = secured(broker.sslAddress, tls);
    const name = uniqueName('sasl-ssl');
    const settings = recommenderSettings(`${name}.in`, `${name}.scores`, PARTITIONS);
    const topology = agentRecommender({ transport: 'kafka', settings });
    await transport.ensureTopics([{ topic: topology.source.topic, partitions: PARTITIONS }]);
    await produceSimulated(transport, topology, 0, HALF);

    const args = ['topologies/agent-recommender.ts', '--brokers', broker.sslAddress, '--group', `${name}-group`];
    args.push('--state-dir', await newDir(), '--metrics-port', '0', '--commit-interval-ms', '1000');
    for (const [key, value] of Object.entries(tls)) args.push('--kafka-config', `${key}=${value}`);
    for (const [key, value] of Object.entries(settings)) args.push('--set', `${key}=${value}`);
    const run = new CliRun(args, { env: { AGENTREC_KAFKA_SASL_PASSWORD: PASSWORD } });
    try {
      await allScored(transport, settings, 'the run to score every request over TLS');
      expect(await run.stop(), run.log).toBe(0);
    } finally {
      await run.kill();
    }
    expect(run.log).not.toContain(PASSWORD);
  }, 180_000);
});

/** Produces simulated events [from, to) of the topology's deterministic stream (whole chunks of 500). */
async function produceSimulated(transport: Transport, topology: Topology, from: number, to: number): Promise<void> {
  const producer = transport.createProducer({ clientId: 'secured-prefill' });
  let seen = 0;
  try {
    await simulate({
      topology,
      produce: async (records) => {
        const fresh = records.slice(Math.max(0, from - seen));
        seen += records.length;
        if (fresh.length > 0) await producer.send(fresh);
      },
      events: to,
      rate: 0,
      signal: new AbortController().signal,
      log: () => undefined,
    });
  } finally {
    await producer.close();
  }
}

/** Waits until every request in the input topic has a score record. */
async function allScored(transport: Transport, settings: Record<string, string>, what: string): Promise<void> {
  await eventually(
    async () => {
      const requests = await requestIdsIn(transport, settings.inputTopic, PARTITIONS);
      // The run creates the output topic once it starts; until then reading it fails.
      const scored = await scoredRequestIds(transport, settings.outputTopic, PARTITIONS).catch(() => new Map<string, number>());
      return requests.size > 0 && [...requests].every((id) => scored.has(id));
    },
    what,
    { timeoutMs: 120_000, pollMs: 1000 },
  );
}

/** Entries the run's restore log lines report for one store, over all partitions. */
function restoredEntries(log: string, store: string): number {
  let entries = 0;
  for (const match of log.matchAll(new RegExp(`restored store '${store}' partition \\d+: (\\d+) entries`, 'g')))
    entries += Number(match[1]);
  return entries;
}
