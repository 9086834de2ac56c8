import { integerIn } from '../config.js';
import { ConfigError } from '../errors.js';
import { PROCESSING_GUARANTEES, type ProcessingGuarantee } from '../topology/runtime/runner-config.js';
import type { LibrdkafkaProperties } from '../topology/transport/kafka-options.js';

/** Environment variables that carry librdkafka settings: AGENTREC_KAFKA_SECURITY_PROTOCOL → security.protocol. */
const KAFKA_ENV_PREFIX = 'AGENTREC_KAFKA_';

/**
 * librdkafka settings for every Kafka client, from AGENTREC_KAFKA_<KEY> variables and then the
 * repeatable `--kafka-config key=value` (a flag wins over a variable). Errors name the key only:
 * the value may be a password.
 */
export function kafkaConfigFrom(flags: readonly string[], env: NodeJS.ProcessEnv): LibrdkafkaProperties {
  const properties: LibrdkafkaProperties = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(KAFKA_ENV_PREFIX) || value === undefined) continue;
    const key = name.slice(KAFKA_ENV_PREFIX.length).toLowerCase().replaceAll('_', '.');
    if (key.length === 0) throw new ConfigError(name, 'names no librdkafka property');
    properties[key] = value;
  }
  for (const flag of flags) {
    const equals = flag.indexOf('=');
    const key = flag.slice(0, Math.max(equals, 0));
    // Not echoed: without its '=', a value (a password) would be shown as the key.
    if (equals <= 0 || key.trim() !== key) throw new ConfigError('--kafka-config', 'must be key=value with a non-empty key');
    properties[key] = flag.slice(equals + 1);
  }
  return properties;
}

/** Topology settings from repeatable `--set key=value` flags (the value may itself hold '='). */
export function settingsFrom(pairs: readonly string[]): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new ConfigError('--set', `must be key=value with a non-empty key, got '${pair}'`);
    settings[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return settings;
}

/** A whole-number flag (or its variable) in [min, max], or undefined when neither is given; errors name the flag. */
export function integerFlag(text: string | undefined, flag: string, range: { min: number; max: number }): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new ConfigError(flag, `must be a whole number, got '${text}'`);
  return integerIn(Number(text), flag, range);
}

/** A string flag (or its variable) that must not be empty when given. */
export function nonEmptyFlag(text: string | undefined, flag: string): string | undefined {
  if (text === undefined) return undefined;
  if (text.length === 0) throw new ConfigError(flag, 'must not be empty');
  return text;
}

/**
 * `--processing-guarantee` (or its variable): 'at-least-once' (the default) or 'exactly-once',
 * which needs Kafka (`onKafka`): the embedded log has no transactions.
 */
export function processingGuaranteeFlag(text: string | undefined, onKafka: boolean): ProcessingGuarantee | undefined {
  if (text === undefined) return undefined;
  const guarantee = PROCESSING_GUARANTEES.find((name) => name === text);
  if (!guarantee) throw new ConfigError('--processing-guarantee', `must be 'at-least-once' or 'exactly-once', got '${text}'`);
  if (guarantee === 'exactly-once' && !onKafka) {
    throw new ConfigError('--processing-guarantee', 'exactly-once needs Kafka (--brokers): the embedded log has no transactions');
  }
  return guarantee;
}

/**
 * The transactional id of an exactly-once instance: stable across restarts when it has an
 * --instance-id, so a restart fences its crashed predecessor at once; otherwise the runner
 * generates one per process.
 */
export function transactionalIdFor(groupId: string, instanceId: string | undefined): string | undefined {
  return instanceId === undefined ? undefined : `${groupId}-${instanceId}`;
}
