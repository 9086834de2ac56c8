import { BadRecordError } from '../errors.js';
import { recordStep } from '../topology/step.js';
import type { RawRecord } from '../topology/topology.js';
import type { Serde, StepDefinition } from '../topology/types.js';

export interface DecodeOptions<T> {
  serde: Serde<T>;
  /** Semantic checks after decoding; throw BadRecordError naming the field. */
  validate?: (value: T) => void;
}

/**
 * Bytes → typed value. Undecodable or invalid records go to the dead-letter topic with the
 * reason; the batch carries on without them.
 *
 * @example
 * topology('t').from('in', { topic: 'agent.trajectories', partitions: 4 })
 *   .step(decode('decode', { serde: avroSerde('trajectory-event'), validate: validateTrajectoryEvent }))
 */
export function decode<T>(name: string, options: DecodeOptions<T>): StepDefinition<RawRecord, T> {
  return recordStep<RawRecord, T>(
    name,
    'decode',
    () => (raw) => {
      if (raw.value === null) throw new BadRecordError('DECODE_FAILED', 'record has no value (tombstone)', { step: name, field: 'value' });
      let value: T;
      try {
        value = options.serde.deserialize(raw.value);
      } catch (err) {
        if (err instanceof BadRecordError) throw new BadRecordError(err.code, err.detail, { step: name, field: err.field, cause: err });
        throw new BadRecordError('DECODE_FAILED', `cannot decode with ${options.serde.name}: ${(err as Error).message}`, {
          step: name,
          cause: err,
        });
      }
      if (options.validate) {
        try {
          options.validate(value);
        } catch (err) {
          if (err instanceof BadRecordError) throw new BadRecordError(err.code, err.detail, { step: name, field: err.field, cause: err });
          throw err;
        }
      }
      return value;
    },
    { options: { serde: options.serde.name, validated: Boolean(options.validate) } },
  );
}
