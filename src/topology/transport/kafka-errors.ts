import { AgentrecError } from '../../errors.js';

/** The librdkafka error codes the transport reacts to (values from librdkafka 2.15 rdkafka.h). */
export const LibrdkafkaCode = {
  TRANSPORT: -195,
  RESOLVE: -193,
  ALL_BROKERS_DOWN: -187,
  TIMED_OUT: -185,
  QUEUE_FULL: -184,
  ASSIGN_PARTITIONS: -175,
  REVOKE_PARTITIONS: -174,
  OFFSET_INVALID: -1001,
  UNKNOWN_TOPIC_OR_PART: 3,
  REQUEST_TIMED_OUT: 7,
  TOPIC_ALREADY_EXISTS: 36,
  FATAL: -150,
  FENCED: -144,
  INVALID_PRODUCER_EPOCH: 47,
  PRODUCER_FENCED: 90,
} as const;

const UNREACHABLE_CODES: ReadonlySet<number> = new Set([
  LibrdkafkaCode.TRANSPORT,
  LibrdkafkaCode.RESOLVE,
  LibrdkafkaCode.ALL_BROKERS_DOWN,
  LibrdkafkaCode.TIMED_OUT,
  LibrdkafkaCode.REQUEST_TIMED_OUT,
]);

export function librdkafkaCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * An error the client will not recover from: flagged fatal, or librdkafka's ERR__FATAL itself,
 * which a consumer's poll returns unflagged once, e.g. when a newer static member with the same
 * group.instance.id fenced it.
 */
export function isFatalClientError(error: unknown): boolean {
  return (error as { isFatal?: unknown } | null)?.isFatal === true || librdkafkaCode(error) === LibrdkafkaCode.FATAL;
}

/** Whether the error means "no broker answered" rather than "the broker said no". */
export function isUnreachable(error: unknown): boolean {
  const code = librdkafkaCode(error);
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

export function kafkaUnavailable(brokers: string, action: string, cause?: unknown): AgentrecError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new AgentrecError('KAFKA_UNAVAILABLE', `cannot ${action}: Kafka at ${brokers} did not answer${reason}`, { cause });
}

/** Rejects with `onTimeout()` when `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
