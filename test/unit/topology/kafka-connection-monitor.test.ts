import { EventEmitter } from 'node:events';
import { expect, it } from 'vitest';
import { BrokerConnectionMonitor, type LibrdkafkaStats } from '../../../src/topology/transport/kafka-connection-monitor.js';

const stats = (states: string[], cgrp?: LibrdkafkaStats['cgrp']) => ({
  message: JSON.stringify({ brokers: Object.fromEntries(states.map((state, i) => [`b${i}`, { state }])), cgrp }),
});

it('counts the cluster reachable while any client has a broker up; "all brokers down" marks a client at once', () => {
  const monitor = new BrokerConnectionMonitor();
  const producer = new EventEmitter();
  const consumer = new EventEmitter();
  const groups: unknown[] = [];
  monitor.watch(producer);
  monitor.watch(consumer, (s) => groups.push(s.cgrp));
  expect(monitor.status().reachable).toBe(true);

  producer.emit('event.error', new Error('all broker connections are down'));
  expect(monitor.status().reachable).toBe(true);
  consumer.emit('event.stats', stats(['TRY_CONNECT', 'INIT'], { state: 'query-coord', join_state: 'init' }));
  expect(monitor.status()).toMatchObject({ reachable: false, lastError: 'all broker connections are down' });
  expect(groups).toEqual([{ state: 'query-coord', join_state: 'init' }]);

  // A transport error alone does not mean every connection is gone.
  consumer.emit('event.error', new Error('broker transport failure'));
  expect(monitor.status()).toMatchObject({ reachable: false, lastError: 'broker transport failure' });
  consumer.emit('event.stats', stats(['INIT', 'UP']));
  expect(monitor.status()).toEqual({ reachable: true, since: expect.any(Number) });

  // A forgotten (closed) client no longer counts.
  monitor.forget(consumer);
  producer.emit('event.stats', stats(['DOWN']));
  expect(monitor.status().reachable).toBe(false);
});
