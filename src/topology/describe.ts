import { changelogTopic } from './topic-names.js';
import type { Topology } from './topology.js';

export type DescribeFormat = 'text' | 'json' | 'mermaid';

export interface TopologyDescription {
  name: string;
  source: { name: string; topic: string; partitions: number };
  steps: { name: string; kind: string; options?: Record<string, unknown>; stores: string[] }[];
  sink: { name: string; topic: string; partitions: number; serde: string };
  deadLetterTopic: string;
  stores: { name: string; step: string; changelogTopic: string | null }[];
}

/** The topology as plain data: what `agentrec describe` prints and what tooling can diff. */
/** `groupId` (default: the topology name) names the changelog topics, as the runtime does. */
export function describeTopology(topology: Topology, groupId: string = topology.name): TopologyDescription {
  return {
    name: topology.name,
    source: { ...topology.source },
    steps: topology.steps.map((s) => ({
      name: s.name,
      kind: s.kind,
      ...(s.options ? { options: { ...s.options } } : {}),
      stores: (s.stores ?? []).map((st) => st.name),
    })),
    sink: { name: topology.sink.name, topic: topology.sink.topic, partitions: topology.sink.partitions, serde: topology.sink.serde.name },
    deadLetterTopic: topology.deadLetterTopic,
    stores: topology.stores.map((s) => ({
      name: s.name,
      step: s.step,
      changelogTopic: s.changelog === false ? null : changelogTopic(groupId, s.name),
    })),
  };
}

export function renderTopology(topology: Topology, format: DescribeFormat): string {
  const d = describeTopology(topology);
  switch (format) {
    case 'json':
      return JSON.stringify(d, null, 2);
    case 'text':
      return renderText(d);
    case 'mermaid':
      return renderMermaid(d);
  }
}

function renderText(d: TopologyDescription): string {
  const lines = [`Topology ${d.name}`, `  source ${d.source.name} <- topic ${d.source.topic} (${d.source.partitions} partitions)`];
  for (const step of d.steps) {
    const options = step.options ? ` ${JSON.stringify(step.options)}` : '';
    const stores = step.stores.length ? ` [stores: ${step.stores.join(', ')}]` : '';
    lines.push(`  -> ${step.name} (${step.kind})${stores}${options}`);
  }
  lines.push(`  sink ${d.sink.name} -> topic ${d.sink.topic} (${d.sink.partitions} partitions, ${d.sink.serde})`);
  lines.push(`  dead letters -> topic ${d.deadLetterTopic}`);
  for (const store of d.stores) lines.push(`  store ${store.name} (step ${store.step}) changelog -> ${store.changelogTopic ?? 'none'}`);
  return lines.join('\n');
}

function renderMermaid(d: TopologyDescription): string {
  const id = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');
  const lines = ['flowchart LR', `  ${id(d.source.name)}[/"${d.source.topic}"/]`];
  let previous = id(d.source.name);
  const drawnStores = new Set<string>();
  for (const step of d.steps) {
    lines.push(`  ${id(step.name)}["${step.name}<br/><i>${step.kind}</i>"]`, `  ${previous} --> ${id(step.name)}`);
    for (const store of step.stores) {
      const node = `store_${id(store)}`;
      lines.push(`  ${id(step.name)} <--> ${drawnStores.has(store) ? node : `${node}[("${store}")]`}`);
      drawnStores.add(store);
    }
    previous = id(step.name);
  }
  lines.push(`  ${id(d.sink.name)}[/"${d.sink.topic}"/]`, `  ${previous} --> ${id(d.sink.name)}`);
  lines.push(`  dlq[/"${d.deadLetterTopic}"/]`, `  ${previous} -. bad records .-> dlq`);
  return lines.join('\n');
}
