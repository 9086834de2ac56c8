import { randomUUID } from 'node:crypto';
import { describe, inject } from 'vitest';

/** The broker list for integration tests, or undefined when none is available. */
export const kafkaBrokers: string | undefined = inject('kafkaBrokers') || undefined;

if (!kafkaBrokers && process.env.CI === 'true') {
  // In CI a missing broker is a failure, never a skip.
  throw new Error('CI=true but no Kafka broker is available (KAFKA_BROKERS unset and none could be started)');
}

/** describe() for tests that need the real broker; skipped loudly (never in CI) without one. */
export const describeKafka = (kafkaBrokers ? describe : describe.skip) as typeof describe;

/** A fresh name so every test gets its own topics and consumer group. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
