import { expect, it } from 'vitest';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { describeTopology } from '../../../src/topology/describe.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { recordStep } from '../../../src/topology/step.js';
import { appScopedTopic, changelogTopic, defaultDeadLetterTopic } from '../../../src/topology/topic-names.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';

it('scopes internal topics by the application id', () => {
  expect(appScopedTopic('app-7', 'counts', 'changelog')).toBe('app-7.counts.changelog');
  expect(changelogTopic('app-7', 'counts')).toBe('app-7.counts.changelog');
  expect(defaultDeadLetterTopic('t')).toBe('t.dead-letter');
});

it('describe() names the topics the runner creates', () => {
  const stores = [{ name: 'counts' }, { name: 'cache', changelog: false }];
  const counting = recordStep<RawRecord, Buffer>('count', 'count', () => (raw) => raw.value ?? Buffer.alloc(0), { stores });
  const t = topology('t').from('src', { topic: 'in', partitions: 2 }).step(counting).to('out', { topic: 'out', serde: bytesSerde() });
  const described = describeTopology(t, 'app-7');
  const runner = new TopologyRunner(t, { transport: createEmbeddedTransport(), groupId: 'app-7', stateBackend: 'memory' });
  const created = runner.topicSpecs().map((spec) => spec.topic);
  const named = [described.source.topic, described.sink.topic, described.deadLetterTopic, ...described.stores.map((s) => s.changelogTopic)];
  expect(named.filter((topic) => topic !== null).sort()).toEqual([...created].sort());
});
