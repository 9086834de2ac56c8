import { describe, expect, it } from 'vitest';
import { kafkaConfigFrom } from '../../../src/cli/run-options.js';
import {
  adminConfig,
  createClient,
  groupConsumerConfig,
  producerConfig,
  readerConfig,
  transactionalProducerConfig,
} from '../../../src/topology/transport/kafka-client-config.js';
import { createKafkaTransport } from '../../../src/topology/transport/kafka-transport.js';
import { describeProperties, redactSecrets, resolveKafkaOptions } from '../../../src/topology/transport/kafka-options.js';

const noRebalance = () => undefined;

describe('transport-wide librdkafka settings', () => {
  it('reach the admin client, group consumers, restore readers and producers', () => {
    const options = resolveKafkaOptions({
      brokers: '127.0.0.1:9092',
      librdkafka: { 'security.protocol': 'SASL_PLAINTEXT', 'client.rack': 'r1', 'auto.offset.reset': 'latest' },
    });
    const consumer = groupConsumerConfig(options, 'g', 'c', noRebalance);
    const reader = readerConfig(options, 'r', 'g-reader');
    const producer = producerConfig(options, 'p');
    for (const global of [adminConfig(options), consumer.global, reader.global, producer.global]) {
      expect(global).toMatchObject({ 'security.protocol': 'SASL_PLAINTEXT', 'client.rack': 'r1' });
    }
    // Topic-level settings go where librdkafka reads them, and the transport's guarantees win.
    expect(consumer.topic['auto.offset.reset']).toBe('earliest');
    expect(producer.topic.acks).toBe(-1);
  });

  it('may set client.id; the per-client passthrough overrides the transport-wide one', () => {
    const options = resolveKafkaOptions({
      brokers: '127.0.0.1:9092',
      librdkafka: { 'client.id': 'billing', 'socket.keepalive.enable': true },
      producer: { librdkafka: { 'socket.keepalive.enable': false } },
    });
    expect(adminConfig(options)['client.id']).toBe('billing');
    expect(producerConfig(options, 'p').global['socket.keepalive.enable']).toBe(false);
    expect(groupConsumerConfig(options, 'g', 'c', noRebalance).global['socket.keepalive.enable']).toBe(true);
  });

  it.each(['bootstrap.servers', 'group.id', 'enable.auto.commit', 'enable.idempotence', 'acks', 'partitioner', 'statistics.interval.ms'])(
    'refuses the reserved key %s, naming it',
    (key) => {
      expect(() => resolveKafkaOptions({ brokers: '127.0.0.1:9092', librdkafka: { [key]: 'x' } })).toThrow(
        `[CONFIG_INVALID] /librdkafka/${key}: is set by the transport and cannot be overridden`,
      );
    },
  );

  it('sets group.instance.id on group members only, and checks it', () => {
    const options = resolveKafkaOptions({ brokers: '127.0.0.1:9092', consumer: { groupInstanceId: 'node-1' } });
    expect(groupConsumerConfig(options, 'g', 'c', noRebalance).global['group.instance.id']).toBe('node-1');
    expect(readerConfig(options, 'r', 'g-reader').global['group.instance.id']).toBeUndefined();
    expect(() => resolveKafkaOptions({ brokers: '127.0.0.1:9092', consumer: { groupInstanceId: 'a b' } })).toThrow(
      '/consumer/groupInstanceId',
    );
  });

  it('never shows a credential: refused settings and descriptions redact it', () => {
    const options = resolveKafkaOptions({
      brokers: '127.0.0.1:9092',
      librdkafka: { 'sasl.mechanism': 'NOT-A-MECHANISM', 'sasl.password': 'hunter2' },
    });
    const failure = (() => {
      try {
        createClient(options, () => {
          throw new Error('Invalid value "NOT-A-MECHANISM" for configuration property "sasl.mechanism" (hunter2)');
        });
      } catch (error) {
        return error as Error;
      }
    })();
    expect(failure?.message).toContain('[CONFIG_INVALID] /librdkafka: librdkafka refused the configuration');
    expect(failure?.message).not.toContain('NOT-A-MECHANISM');
    expect(failure?.message).not.toContain('hunter2');
    expect(redactSecrets('password hunter2', { 'ssl.key.password': 'hunter2' })).toBe('password [redacted]');
    expect(describeProperties({ 'sasl.username': 'u', 'client.rack': 'r1' })).toEqual({
      'sasl.username': '[redacted]',
      'client.rack': 'r1',
    });
  });
});

describe('kafkaConfigFrom (--kafka-config, AGENTREC_KAFKA_<KEY>)', () => {
  it('maps variables to dotted keys; a flag wins over a variable', () => {
    const env = { AGENTREC_KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', AGENTREC_KAFKA_CLIENT_RACK: 'r1', AGENTREC_BROKERS: 'x:1' };
    expect(kafkaConfigFrom(['client.rack=r2', 'sasl.jaas=a=b'], env)).toEqual({
      'security.protocol': 'SASL_PLAINTEXT',
      'client.rack': 'r2',
      'sasl.jaas': 'a=b',
    });
  });

  it('refuses a setting without key=value, without echoing it (it may be a password)', () => {
    for (const bad of ['hunter2', '=hunter2']) {
      expect(() => kafkaConfigFrom([bad], {})).toThrow('[CONFIG_INVALID] --kafka-config: must be key=value with a non-empty key');
      try {
        kafkaConfigFrom([bad], {});
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter2');
      }
    }
  });
});

describe('exactly-once settings', () => {
  it('read read_committed in every consumer and restore reader unless a passthrough says otherwise', () => {
    const options = resolveKafkaOptions({ brokers: '127.0.0.1:9092' });
    expect(groupConsumerConfig(options, 'g', 'c', noRebalance).global['isolation.level']).toBe('read_committed');
    expect(readerConfig(options, 'r', 'g-reader').global['isolation.level']).toBe('read_committed');
    const uncommitted = resolveKafkaOptions({
      brokers: '127.0.0.1:9092',
      consumer: { librdkafka: { 'isolation.level': 'read_uncommitted' } },
    });
    expect(readerConfig(uncommitted, 'r', 'g-reader').global['isolation.level']).toBe('read_uncommitted');
  });

  it('give the transactional producer its id, and a delivery timeout no longer than a transaction may stay open', () => {
    const forever = transactionalProducerConfig(resolveKafkaOptions({ brokers: '127.0.0.1:9092' }), 'p', 'recs-host-1');
    expect(forever.global).toMatchObject({
      'transactional.id': 'recs-host-1',
      'transaction.timeout.ms': 60_000,
      'enable.idempotence': true,
    });
    expect(forever.topic['message.timeout.ms']).toBe(60_000);
    const long = transactionalProducerConfig(
      resolveKafkaOptions({ brokers: '127.0.0.1:9092', producer: { messageTimeoutMs: 120_000, transactionTimeoutMs: 30_000 } }),
      'p',
      't',
    );
    expect(long.global['transaction.timeout.ms']).toBe(120_000);
    expect(long.topic['message.timeout.ms']).toBe(120_000);
    expect(() => resolveKafkaOptions({ brokers: '127.0.0.1:9092', librdkafka: { 'transactional.id': 'x' } })).toThrow(
      '/librdkafka/transactional.id: is set by the transport and cannot be overridden',
    );
  });

  it('refuse a transactional producer while readers are set to read_uncommitted, naming the setting', async () => {
    const transport = createKafkaTransport({ brokers: '127.0.0.1:1', librdkafka: { 'isolation.level': 'read_uncommitted' } });
    try {
      const consumer = transport.createConsumer({ groupId: 'g', topics: ['t'] });
      expect(() => transport.createTransactionalProducer!({ transactionalId: 'g-1', consumer })).toThrow(
        "[CONFIG_INVALID] /librdkafka/isolation.level: must be read_committed with exactly-once processing, got 'read_uncommitted'",
      );
    } finally {
      await transport.close();
    }
  });
});
