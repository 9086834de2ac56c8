import { integerIn } from '../config.js';
import { AgentrecError } from '../errors.js';
import { defaultDeadLetterTopic } from './topic-names.js';
import type { RecordMeta, Serde, StepDefinition, StoreSpec } from './types.js';

/** What a source hands to the first step: the record's raw bytes. */
export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
}

export interface SourceSpec {
  readonly name: string;
  readonly topic: string;
  readonly partitions: number;
}

export interface SinkSpec<T> {
  readonly name: string;
  readonly topic: string;
  readonly partitions: number;
  readonly serde: Serde<T>;
  /** Output key; defaults to the input record's key, so outputs stay keyed by user. */
  readonly key?: (value: T, meta: RecordMeta) => string | null;
}

/**
 * An immutable, fully named topology: one source, a chain of steps, one sink, and the
 * dead-letter topic. Built with `topology(name).from(...).step(...).to(...)`; executed by the
 * runtime; rendered by describe().
 */
export interface Topology {
  readonly name: string;
  readonly source: SourceSpec;
  readonly steps: readonly StepDefinition<unknown, unknown>[];
  readonly sink: SinkSpec<unknown>;
  readonly deadLetterTopic: string;
  /** Every store any step declared, with the step that owns it. */
  readonly stores: readonly (StoreSpec & { step: string })[];
}

const NAME = /^[a-z][a-z0-9_.-]{0,99}$/i;

function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new AgentrecError(
      'TOPOLOGY_INVALID',
      `${what} name '${String(name)}' must start with a letter and contain only letters, digits, '.', '_' or '-' (it names topics, state directories and metric labels)`,
    );
  }
}

function checkPartitions(where: string, partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) {
    throw new AgentrecError('TOPOLOGY_INVALID', `${where}: partitions must be an integer in 1..10000, got ${partitions}`);
  }
}

export function topology(name: string): {
  from(sourceName: string, spec: { topic: string; partitions: number }): TopologyBuilder<RawRecord>;
} {
  checkName('topology', name);
  return {
    from(sourceName, spec) {
      checkName('source', sourceName);
      checkName(`source '${sourceName}' topic`, spec.topic);
      checkPartitions(`source '${sourceName}'`, spec.partitions);
      return new TopologyBuilder<RawRecord>(name, Object.freeze({ name: sourceName, ...spec }), []);
    },
  };
}

/**
 * Every protocol group's steps are present, each once, in the group's order (other steps may sit
 * between them): steps that share per-task state rely on that order, e.g. one begins a batch that
 * another ends, and a topology that breaks it would fail only at run time, or silently.
 */
function checkProtocols(topologyName: string, steps: readonly StepDefinition<unknown, unknown>[]): void {
  const groups = new Map<string, { roles: readonly string[]; found: { role: string; step: string }[] }>();
  for (const step of steps) {
    const protocol = step.protocol;
    if (!protocol) continue;
    let group = groups.get(protocol.group);
    if (!group) groups.set(protocol.group, (group = { roles: protocol.roles, found: [] }));
    group.found.push({ role: protocol.role, step: step.name });
  }
  for (const [name, { roles, found }] of groups) {
    const problems: string[] = [];
    const missing = roles.filter((role) => !found.some((f) => f.role === role));
    if (missing.length) problems.push(`missing ${missing.join(', ')}`);
    for (const role of roles) {
      const twice = found.filter((f) => f.role === role);
      if (twice.length > 1) problems.push(`${role} ${twice.length} times (steps ${twice.map((f) => `'${f.step}'`).join(', ')})`);
    }
    for (const f of found) if (!roles.includes(f.role)) problems.push(`step '${f.step}' has unknown role ${f.role}`);
    for (let i = 1; i < found.length; i++) {
      const [before, after] = [found[i - 1], found[i]];
      if (roles.indexOf(after.role) < roles.indexOf(before.role)) {
        problems.push(`${after.role} (step '${after.step}') comes after ${before.role} (step '${before.step}')`);
      }
    }
    if (problems.length) {
      const rule = `needs its steps in the order ${roles.join(' → ')}, each once`;
      throw new AgentrecError('TOPOLOGY_INVALID', `${name} in topology '${topologyName}' ${rule}: ${problems.join('; ')}`);
    }
  }
}

/** Each call returns a new builder; nothing is shared or mutated, so partial chains can be reused. */
export class TopologyBuilder<T> {
  constructor(
    private readonly topologyName: string,
    private readonly source: SourceSpec,
    private readonly steps: readonly StepDefinition<unknown, unknown>[],
  ) {}

  step<Out>(definition: StepDefinition<T, Out>): TopologyBuilder<Out> {
    checkName('step', definition.name);
    const taken = [this.source.name, ...this.steps.map((s) => s.name)];
    if (taken.includes(definition.name)) {
      throw new AgentrecError('TOPOLOGY_INVALID', `step name '${definition.name}' is used twice in topology '${this.topologyName}'`, {
        step: definition.name,
      });
    }
    return new TopologyBuilder<Out>(this.topologyName, this.source, [
      ...this.steps,
      definition as unknown as StepDefinition<unknown, unknown>,
    ]);
  }

  to(
    sinkName: string,
    spec: {
      topic: string;
      serde: Serde<T>;
      partitions?: number;
      key?: (value: T, meta: RecordMeta) => string | null;
      deadLetterTopic?: string;
    },
  ): Topology {
    checkName('sink', sinkName);
    checkName(`sink '${sinkName}' topic`, spec.topic);
    if ([this.source.name, ...this.steps.map((s) => s.name)].includes(sinkName)) {
      throw new AgentrecError('TOPOLOGY_INVALID', `sink name '${sinkName}' is already a step name`, { step: sinkName });
    }
    const partitions = spec.partitions ?? this.source.partitions;
    checkPartitions(`sink '${sinkName}'`, partitions);
    checkProtocols(this.topologyName, this.steps);
    const stores: Topology['stores'][number][] = [];
    for (const step of this.steps) {
      for (const store of step.stores ?? []) {
        checkName(`store of step '${step.name}'`, store.name);
        if (store.maxCacheBytes !== undefined)
          integerIn(store.maxCacheBytes, `/steps/${step.name}/stores/${store.name}/maxCacheBytes`, { min: 1024 });
        // Steps that declare the same store share it (e.g. lookup reads the rows update writes);
        // the first declaring step is listed as its owner.
        const existing = stores.find((s) => s.name === store.name);
        if (existing) {
          if ((existing.changelog ?? true) !== (store.changelog ?? true)) {
            throw new AgentrecError('TOPOLOGY_INVALID', `store '${store.name}' is declared with and without a changelog`, {
              step: step.name,
            });
          }
          continue;
        }
        stores.push(Object.freeze({ ...store, step: step.name }));
      }
    }
    const sink: SinkSpec<T> = Object.freeze({ name: sinkName, topic: spec.topic, partitions, serde: spec.serde, key: spec.key });
    return Object.freeze({
      name: this.topologyName,
      source: this.source,
      steps: Object.freeze([...this.steps]),
      sink: sink as unknown as SinkSpec<unknown>,
      deadLetterTopic: spec.deadLetterTopic ?? defaultDeadLetterTopic(this.topologyName),
      stores: Object.freeze(stores),
    });
  }
}
