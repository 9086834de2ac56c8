import { describe, expect, it } from 'vitest';
import { mapValues } from '../../../src/operators/map-values.js';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { describeTopology, renderTopology } from '../../../src/topology/describe.js';
import { recordStep } from '../../../src/topology/step.js';
import { topology } from '../../../src/topology/topology.js';
import type { RawRecord } from '../../../src/topology/topology.js';

const passthrough = (name: string) => mapValues(name, (r: RawRecord) => r.value ?? Buffer.alloc(0));

describe('topology DSL', () => {
  it('builds an immutable graph; partial chains can be reused', () => {
    const base = topology('t').from('src', { topic: 'in', partitions: 3 });
    const a = base.step(passthrough('a')).to('out', { topic: 'out', serde: bytesSerde() });
    const b = base.step(passthrough('b')).to('out', { topic: 'out2', serde: bytesSerde() });
    expect(a.steps.map((s) => s.name)).toEqual(['a']);
    expect(b.steps.map((s) => s.name)).toEqual(['b']);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.steps)).toBe(true);
    expect(a.sink.partitions).toBe(3);
    expect(a.deadLetterTopic).toBe('t.dead-letter');
  });

  it('rejects duplicate and malformed names, naming the step', () => {
    const base = topology('t').from('src', { topic: 'in', partitions: 1 }).step(passthrough('a'));
    expect(() => base.step(mapValues('a', (x: Buffer) => x))).toThrow(/step name 'a' is used twice/);
    expect(() => base.step(mapValues('has space', (x: Buffer) => x))).toThrow(/step name 'has space'/);
    expect(() => topology('t').from('src', { topic: 'in', partitions: 0 })).toThrow(/partitions/);
  });

  it('collects stores with their changelog topics', () => {
    const stateful = recordStep<Buffer, Buffer>('count', 'count', () => (v) => v, { stores: [{ name: 'counts' }] });
    const t = topology('t')
      .from('src', { topic: 'in', partitions: 2 })
      .step(passthrough('a'))
      .step(stateful)
      .to('out', { topic: 'out', serde: bytesSerde() });
    expect(t.stores).toEqual([{ name: 'counts', step: 'count' }]);
    expect(describeTopology(t, 'app-7').stores).toEqual([{ name: 'counts', step: 'count', changelogTopic: 'app-7.counts.changelog' }]);
  });

  it('describes itself as text, JSON and Mermaid', () => {
    const t = topology('t')
      .from('src', { topic: 'in', partitions: 2 })
      .step(passthrough('a'))
      .to('out', { topic: 'out', serde: bytesSerde() });
    expect(describeTopology(t).steps).toEqual([{ name: 'a', kind: 'mapValues', stores: [] }]);
    expect(JSON.parse(renderTopology(t, 'json')).sink.topic).toBe('out');
    const text = renderTopology(t, 'text');
    expect(text).toContain('-> a (mapValues)');
    expect(text).toContain('source src <- topic in (2 partitions)');
    const mermaid = renderTopology(t, 'mermaid');
    expect(mermaid.startsWith('flowchart LR')).toBe(true);
    expect(mermaid).toContain('src --> a');
    expect(mermaid).toContain('a --> out');
  });

  describe('protocol groups', () => {
    // Generic steps that declare a place in a group, as a recommender model's steps do.
    const roles = ['lookup', 'score', 'learn'] as const;
    const member = (name: string, role: string, group = "model 'rec'") =>
      recordStep<Buffer, Buffer>(name, role, () => (v) => v, { protocol: { group, role, roles } });
    const build = (...steps: ReturnType<typeof member>[]) => {
      const start = topology('t').from('src', { topic: 'in', partitions: 1 }).step(passthrough('raw'));
      return steps.reduce((b, s) => b.step(s), start).to('out', { topic: 'out', serde: bytesSerde() });
    };

    it('passes steps in order, each once, with other steps between them', () => {
      const between = mapValues('between', (v: Buffer) => v);
      const t = build(member('lookup', 'lookup'), between, member('score', 'score'), member('learn', 'learn'));
      expect(t.steps.map((s) => s.name)).toEqual(['raw', 'lookup', 'between', 'score', 'learn']);
    });

    it('rejects a missing step, naming the group and the role', () => {
      const message = expect.stringMatching(/model 'rec' .*lookup → score → learn.*missing learn/);
      const incomplete = () => build(member('lookup', 'lookup'), member('score', 'score'));
      expect(incomplete).toThrow(expect.objectContaining({ code: 'TOPOLOGY_INVALID', message }));
    });

    it('rejects steps out of order, naming them', () => {
      const misordered = () => build(member('s', 'score'), member('l', 'lookup'), member('x', 'learn'));
      expect(misordered).toThrow(expect.objectContaining({ code: 'TOPOLOGY_INVALID', message: expect.stringContaining("model 'rec'") }));
      expect(misordered).toThrow(/lookup \(step 'l'\) comes after score \(step 's'\)/);
    });

    it('rejects a step twice, naming both', () => {
      expect(() => build(member('l1', 'lookup'), member('l2', 'lookup'), member('s', 'score'), member('x', 'learn'))).toThrow(
        /model 'rec' .*lookup 2 times \(steps 'l1', 'l2'\)/,
      );
    });

    it('checks each group on its own', () => {
      const other = "model 'other'";
      const rec = [member('l', 'lookup'), member('s', 'score'), member('x', 'learn')];
      expect(() => build(...rec, member('l2', 'lookup', other))).toThrow(/model 'other' .*missing score, learn/);
      const t = build(rec[0], member('l2', 'lookup', other), rec[1], member('s2', 'score', other), rec[2], member('x2', 'learn', other));
      expect(t.steps).toHaveLength(7);
    });
  });
});
