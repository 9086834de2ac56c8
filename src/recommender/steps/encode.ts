import { AgentrecError, ConfigError } from '../../errors.js';
import type { TrajectoryEvent } from '../records.js';
import { batchStep } from '../../topology/step.js';
import type { Batch, Envelope, StepDefinition } from '../../topology/types.js';
import { createTextEncoder } from '../features/create-text-encoder.js';
import { FeatureKeys } from '../features/feature-keys.js';
import type { SparseFeature, TextEncoder } from '../features/text-encoder.js';
import type { TextEncoderDevice } from '../features/transformers-encoder.js';
import type { EncodedEvent } from '../types.js';

type StructuredField = 'tool' | 'domain' | 'repo' | 'errorType' | 'agent';
type TextField = 'text' | 'code';
const STRUCTURED: readonly StructuredField[] = ['tool', 'domain', 'repo', 'errorType', 'agent'];

export interface EncodeOptions {
  /** Structured fields that become exact-key features (`tool=git`). Default: all five. */
  fields?: StructuredField[];
  /** Pairs crossed into one feature (`tool=git×domain=web`). Default [['tool', 'domain']]. */
  crosses?: [StructuredField, StructuredField][];
  /** Event-time buckets (UTC): hour of day and day of week. Default both. */
  time?: { hourOfDay?: boolean; dayOfWeek?: boolean };
  /** `attributes` map keys (schema v2) that become exact-key features. */
  attributes?: string[];
  /**
   * Free text. Without modelDir: hashed n-grams → learned rows (sparse). With modelDir: a
   * pretrained transformers.js encoder from that local folder → one dense vector (of `text`).
   */
  text?: {
    fields?: TextField[];
    modelDir?: string;
    buckets?: number;
    /** Hashed encoder n-grams; character trigrams add ~3× the rows per text (robust to typos, slower). */
    ngrams?: { wordBigrams?: boolean; charTrigrams?: boolean };
    batchSize?: number;
    cacheSize?: number;
    /** With modelDir: where the encoder runs, 'cpu' (default) or 'webgpu'. */
    device?: TextEncoderDevice;
  };
}

/**
 * Trajectory event → features. Structured fields become exact keys (no hashing, so no
 * collisions); crosses and time buckets add interactions the FM would otherwise have to learn;
 * text becomes hashed n-gram features or a pretrained dense vector. Only REQUEST events carry
 * context to encode; every other kind passes through with no features.
 *
 * @example
 * .step(encode('encode', { crosses: [['tool', 'domain']], text: { fields: ['text'] } }))
 */
export function encode(name: string, options: EncodeOptions = {}): StepDefinition<TrajectoryEvent, EncodedEvent> {
  const fields = options.fields ?? [...STRUCTURED];
  for (const [i, f] of fields.entries()) if (!STRUCTURED.includes(f)) throw new ConfigError(`/encode/fields/${i}`, `unknown field '${f}'`);
  const crosses = options.crosses ?? [['tool', 'domain']];
  for (const [i, pair] of crosses.entries()) {
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((f) => STRUCTURED.includes(f))) {
      throw new ConfigError(`/encode/crosses/${i}`, `must be a pair of ${STRUCTURED.join('|')}`);
    }
  }
  rejectRepeats('/encode/fields', fields);
  rejectRepeats(
    '/encode/crosses',
    crosses.map((pair) => pair.join('×')),
  );
  const textFields = options.text?.fields ?? ['text'];
  rejectRepeats('/encode/text/fields', textFields);
  for (const [i, f] of textFields.entries())
    if (f !== 'text' && f !== 'code') throw new ConfigError(`/encode/text/fields/${i}`, "must be 'text' or 'code'");
  const modelDir = options.text?.modelDir;
  const hourOfDay = options.time?.hourOfDay ?? true;
  const dayOfWeek = options.time?.dayOfWeek ?? true;
  const attributes = options.attributes ?? [];
  rejectRepeats('/encode/attributes', attributes);
  const crossNames = crosses.map(([a, b]) => `${a}×${b}`);
  const attributeNames = attributes.map((key) => `attr.${key}`);
  const hourKeys = Array.from({ length: 24 }, (_, h) => `hour=${h}`);
  const weekdayKeys = Array.from({ length: 7 }, (_, d) => `dow=${d}`);

  return batchStep<TrajectoryEvent, EncodedEvent>(
    name,
    'encode',
    (ctx) => {
      // Encoders are per task: the transformers one holds a model session and a cache.
      const encoders = new Map<TextField, TextEncoder>(
        (modelDir ? (['text'] as TextField[]) : textFields).map((field) => [
          field,
          createTextEncoder({
            field,
            modelDir,
            buckets: modelDir ? undefined : options.text?.buckets,
            ngrams: modelDir ? undefined : options.text?.ngrams,
            batchSize: options.text?.batchSize,
            cacheSize: options.text?.cacheSize,
            device: options.text?.device,
            configPath: '/encode/text',
          }),
        ]),
      );
      const keys = new FeatureKeys();
      return async (batch: Batch<TrajectoryEvent>) => {
        const out: Envelope<EncodedEvent>[] = batch.records.map((r) => ({
          meta: r.meta,
          value: { event: r.value, features: r.value.kind === 'REQUEST' ? structuredFeatures(r.value, keys) : [] },
        }));
        const requests = out.filter((r) => r.value.event.kind === 'REQUEST');
        const failed = new Set<Envelope<EncodedEvent>>();
        for (const [field, encoder] of encoders) {
          const texts = requests.map((r) => r.value.event[field] ?? '');
          let encoded;
          try {
            encoded = await encoder.encode(texts);
          } catch (err) {
            if (err instanceof AgentrecError && err.code === 'MODEL_LOAD_FAILED') throw err; // a task problem, not a record problem
            // One bad text must not fail the batch: retry one by one and dead-letter the culprit.
            encoded = [];
            for (const [i, text] of texts.entries()) {
              try {
                encoded.push((await encoder.encode([text]))[0]);
              } catch (e) {
                ctx.deadLetter(requests[i].meta, new AgentrecError('ENCODE_FAILED', (e as Error).message, { step: name, field, cause: e }));
                failed.add(requests[i]);
                encoded.push({});
              }
            }
          }
          requests.forEach((r, i) => {
            const e = encoded[i];
            if (e.sparse) r.value.features.push(...e.sparse);
            if (e.dense) r.value.dense = e.dense;
          });
        }
        ctx.metrics.count('requests_encoded', requests.length - failed.size);
        return { partition: batch.partition, records: failed.size ? out.filter((r) => !failed.has(r)) : out };
      };
    },
    {
      options: {
        fields,
        crosses,
        hourOfDay,
        dayOfWeek,
        attributes,
        text: modelDir
          ? { encoder: 'transformers', modelDir, device: options.text?.device ?? 'cpu' }
          : { encoder: 'hashed-ngram', fields: textFields },
      },
    },
  );

  function structuredFeatures(event: TrajectoryEvent, keys: FeatureKeys): SparseFeature[] {
    const features: SparseFeature[] = [];
    for (const field of fields) {
      const value = event[field];
      if (value) features.push({ key: keys.single(field, value), weight: 1 });
    }
    for (let i = 0; i < crosses.length; i++) {
      const [a, b] = crosses[i];
      const aValue = event[a];
      const bValue = event[b];
      if (aValue && bValue) features.push({ key: keys.cross(crossNames[i], a, aValue, b, bValue), weight: 1 });
    }
    const at = new Date(event.eventTime);
    if (hourOfDay) features.push({ key: hourKeys[at.getUTCHours()], weight: 1 });
    if (dayOfWeek) features.push({ key: weekdayKeys[at.getUTCDay()], weight: 1 });
    for (let i = 0; i < attributes.length; i++) {
      const value = event.attributes?.[attributes[i]];
      if (value !== undefined) features.push({ key: keys.single(attributeNames[i], value), weight: 1 });
    }
    return features;
  }
}

/** Each feature key must occur once per event: a repeated config entry would emit it twice. */
function rejectRepeats(path: string, entries: readonly string[]): void {
  const seen = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    if (seen.has(entry)) throw new ConfigError(`${path}/${i}`, `'${entry}' is listed twice`);
    seen.add(entry);
  }
}
