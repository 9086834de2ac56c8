// The public API of agentrec's generic layers: the topology DSL, generic operators, serdes, the
// runtime and the test driver. The recommender's steps and model are in 'agentrec/recommender'.
export { topology, TopologyBuilder, type RawRecord, type SinkSpec, type SourceSpec, type Topology } from './topology/topology.js';
export { batchStep, recordStep, type StepExtras } from './topology/step.js';
export { scopeKey, type ScopeKey } from './topology/task-scope.js';
export type { Batch, Envelope, RecordMeta, StepContext, StepDefinition, StepMetricsSink, StoreSpec } from './topology/types.js';
export type { SimulationContext, TopologyEnv, TopologyModule } from './topology/topology-module.js';
export { describeTopology, renderTopology, type DescribeFormat, type TopologyDescription } from './topology/describe.js';
export { TopologyTestDriver, type TestDriverOptions } from './topology/test-driver.js';
export { TopologyRunner, type RunnerOptions } from './topology/runtime/topology-runner.js';
export type { ProcessingGuarantee } from './topology/runtime/runner-config.js';
export type { DeadLetterRecord } from './topology/runtime/dead-letter.js';
export { createEmbeddedTransport, type EmbeddedTransportOptions } from './topology/transport/embedded-transport.js';
export { createKafkaTransport, type KafkaTransportOptions } from './topology/transport/kafka-transport.js';
export type { OutputRecord, SourceRecord, TopicPartition, Transport } from './topology/transport/types.js';
export * from './operators/index.js';
export * from './serde/index.js';
export type { ChangedEntry, KeyValueStore } from './state/store.js';
export { AgentrecError, BadRecordError, ConfigError, StateError, errorCode, errorMessage, type ErrorCode } from './errors.js';
