import { execFileSync, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

/**
 * Makes a real Kafka broker available to the integration tests. KAFKA_BROKERS wins when set;
 * otherwise a broker on 127.0.0.1:9092 is reused, or started with scripts/kafka/start.sh when
 * Java is present. Where none can be had, Kafka tests skip loudly — except under CI=true,
 * where test/support/kafka.ts turns that skip into a failure.
 */
export default async function setup(project: TestProject): Promise<void> {
  const brokers = await findOrStartBroker();
  project.provide('kafkaBrokers', brokers ?? '');
}

async function findOrStartBroker(): Promise<string | undefined> {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  const defaultBroker = '127.0.0.1:9092';
  if (await reachable(defaultBroker)) {
    return defaultBroker;
  }
  const hasJava = spawnSync('java', ['-version']).status === 0;
  if (!hasJava) {
    console.warn('\n*** agentrec: no Kafka broker and no Java: Kafka integration tests will be SKIPPED ***\n');
    return undefined;
  }
  try {
    execFileSync('bash', ['scripts/kafka/start.sh'], { stdio: 'inherit' });
    return defaultBroker;
  } catch {
    console.warn('\n*** agentrec: could not start a Kafka broker: Kafka integration tests will be SKIPPED ***\n');
    return undefined;
  }
}

function reachable(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.setTimeout(5000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}
