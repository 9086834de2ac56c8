import { describe, expect, it } from 'vitest';
import { checkKafkaCredentials, isSecured } from '../../../src/cli/kafka-credentials.js';

describe('the Kafka credentials check', () => {
  it('runs only for a secured security.protocol', () => {
    expect(isSecured({})).toBe(false);
    expect(isSecured({ 'security.protocol': 'PLAINTEXT' })).toBe(false);
    expect(isSecured({ 'security.protocol': 'sasl_plaintext' })).toBe(true);
    expect(isSecured({ 'security.protocol': 'SASL_SSL' })).toBe(true);
    expect(isSecured({ 'security.protocol': 'ssl' })).toBe(true);
  });

  it('leaves an unsecured run alone, without connecting', async () => {
    // Nothing listens on port 1: a check that connected would wait out its timeout.
    const started = Date.now();
    await checkKafkaCredentials('127.0.0.1:1', { 'client.id': 'x' }, 60_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('leaves a broker that does not answer to the runner', async () => {
    await expect(
      checkKafkaCredentials(
        '127.0.0.1:1',
        { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'u', 'sasl.password': 'p' },
        500,
      ),
    ).resolves.toBeUndefined();
  });
});
