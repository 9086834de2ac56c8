/**
 * Every topic name agentrec derives, in one place: the DSL, describe() and the runtime import
 * these, so what `agentrec describe` prints is what the runtime creates.
 */

/**
 * A topic that belongs to the application (the consumer group), not to the topology file: two
 * deployments of one topology under different group ids must never read each other's internal
 * topics. Same convention as Kafka Streams' `<application.id>-<name>`.
 */
export function appScopedTopic(applicationId: string, ...parts: string[]): string {
  return [applicationId, ...parts].join('.');
}

/** Where a store's flushes are published, and restored from when its partition moves. */
export function changelogTopic(applicationId: string, store: string): string {
  return appScopedTopic(applicationId, store, 'changelog');
}

/** Where bad records go when the topology names no dead-letter topic of its own. */
export function defaultDeadLetterTopic(topologyName: string): string {
  return `${topologyName}.dead-letter`;
}
