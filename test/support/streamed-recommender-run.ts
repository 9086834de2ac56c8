import agentRecommender from '../../topologies/agent-recommender.js';
import type { Producer, Transport } from '../../src/topology/transport/types.js';
import { CliRun } from './cli-run.js';
import { eventually } from './eventually.js';
import { recommenderSettings } from './recommender-topics.js';
import { streamTrajectories } from './stream-trajectories.js';
import { uniqueName } from './kafka.js';

export interface StreamedRecommenderRunOptions {
  brokers: string;
  /** Prefix of the run's topics, group and instance id. */
  prefix: string;
  partitions: number;
  stateDir: string;
  /** CLI flags after --instance-id, before the --set settings. */
  extraArgs?: string[];
  /** The stream's producer. */
  clientId: string;
  events: number;
  rate: number;
}

/** Tests that break a live `agentrec run` (a broker outage) set up the run they break the same way: fresh topics, a ready run, a stream into it. */
export async function startStreamedRecommenderRun(transport: Transport, options: StreamedRecommenderRunOptions) {
  const name = uniqueName(options.prefix);
  const settings = recommenderSettings(`${name}.in`, `${name}.scores`, options.partitions);
  const topology = agentRecommender({ transport: 'kafka', settings });
  await transport.ensureTopics([{ topic: topology.source.topic, partitions: options.partitions }]);
  const group = `${name}-group`;
  const args = ['topologies/agent-recommender.ts', '--brokers', options.brokers, '--group', group];
  args.push('--state-dir', options.stateDir, '--metrics-port', '0', '--commit-interval-ms', '1000');
  // Static membership, as in production: the session expires during an outage, and without an
  // instance id the group would wait out the expired member's session once the broker is back.
  args.push('--instance-id', `${name}-node-1`, ...(options.extraArgs ?? []));
  for (const [key, value] of Object.entries(settings)) args.push('--set', `${key}=${value}`);
  const run = new CliRun(args);
  const producer: Producer = transport.createProducer({ clientId: options.clientId });
  try {
    await eventually(async () => (await run.readyz())?.status === 200, 'the run to be ready', { timeoutMs: 90_000, pollMs: 200 });
  } catch (error) {
    await producer.close();
    await run.kill();
    throw error;
  }
  const stop = new AbortController();
  const streaming = streamTrajectories(topology, producer, options.events, options.rate, stop.signal);
  // A test that fails mid-stream must not leave the stream sending into a closed producer.
  streaming.catch(() => undefined);
  /** Stops the stream, closes its producer and kills the run: every test's `finally`. */
  const close = async () => {
    stop.abort();
    await streaming.catch(() => undefined);
    await producer.close();
    await run.kill();
  };
  return { settings, topology, group, run, streaming, close };
}
