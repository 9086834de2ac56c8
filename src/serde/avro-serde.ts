import avro, { type Type } from 'avsc';
import { BadRecordError, ConfigError, errorMessage } from '../errors.js';
import { AvroBinaryWriter } from './avro-binary-writer.js';
import { CopySlab } from './copy-slab.js';
import { AvroScratch } from './avro-scratch.js';
import type { Serde } from './serde.js';
import { compileBodyCheck, type BodyCheck } from './compile-body-check.js';
import { fieldPath } from './field-path.js';
import { SchemaRegistry, type RegisteredSchema } from './schema-registry.js';
import { SINGLE_OBJECT_HEADER_LENGTH, assertSingleObjectHeader, singleObjectHeader, writerFingerprint } from './single-object-encoding.js';

/**
 * A record body written field by field instead of by avsc, for one exact schema: a hot output
 * whose writer must be byte-identical to avsc's (its owner tests that). Used only when the serde
 * writes with the schema of that fingerprint; any other version is written by avsc.
 */
export interface HandWrittenBody<T> {
  /** CRC-64-AVRO fingerprint of the schema `write` encodes. */
  readonly fingerprint: bigint;
  readonly write: (writer: AvroBinaryWriter, value: T) => void;
}

export interface AvroSerdeOptions<T = unknown> {
  /** Write with this version of the family (default: the latest). Reading accepts every version. */
  version?: number;
  /** Default: `SchemaRegistry.fromDirectory()`, i.e. the repository's schemas/. */
  registry?: SchemaRegistry;
  /**
   * Fields this reader never looks at, as dotted paths through records, arrays, maps and
   * nullable unions (`'candidates.text'`: the `text` of every candidate). Decoding skips their
   * bytes instead of building strings and objects for them, so decoded values lack them; writing
   * is unchanged (a skipped field needs a default to be left out of a value written).
   */
  skipOnRead?: readonly string[];
  /** A faster writer for the version this serde writes with (see HandWrittenBody). */
  handWrittenBody?: HandWrittenBody<T>;
}

export interface AvroSerde<T> extends Serde<T> {
  /** The schema this serde writes with and resolves every older (or newer) writer into. */
  readonly schema: RegisteredSchema;
}

type Resolver = ReturnType<Type['createResolver']>;

interface KnownWriter {
  readonly schema: RegisteredSchema;
  /** The fingerprint as the two little-endian words of the header, compared without BigInt. */
  readonly low: number;
  readonly high: number;
  readonly checkBody: BodyCheck;
  /** Absent when the writer reads exactly like the reader (and no field is skipped). */
  readonly resolver?: Resolver;
  /** Why this serde's schema cannot read that writer (set only for newer, incompatible writers). */
  readonly unreadable?: string;
}

const INITIAL_SCRATCH_BYTES = 4096;

/**
 * Avro single-object encoding for one schema family of the registry: writes with the chosen
 * version, reads any version of the family by resolving the writer schema the header names into
 * this serde's schema (missing fields get their defaults). Failures are BadRecordErrors, so a
 * topology dead-letters the record and keeps going:
 * - DECODE_FAILED: bad magic, unknown fingerprint, truncated or malformed body;
 * - VALIDATION_FAILED: a value that does not match the schema, naming the field
 *   (`candidates[2].actionId`).
 *
 * @example
 * const events = avroSerde<TrajectoryEvent>('trajectory-event');
 * const bytes = events.serialize(event);
 * const again = events.deserialize(bytes); // also reads v1-written records
 */
export function avroSerde<T>(family: string, options: AvroSerdeOptions<T> = {}): AvroSerde<T> {
  const registry = options.registry ?? SchemaRegistry.fromDirectory();
  const versions = registry.versions(family);
  if (versions.length === 0) {
    throw new ConfigError('/serde/family', `unknown schema family '${family}'; known: ${registry.families().join(', ') || 'none'}`);
  }
  const reader = readerSchema(registry, family, versions, options.version);
  const header = singleObjectHeader(reader.fingerprint);
  const readType = options.skipOnRead?.length ? projectedType(reader, options.skipOnRead) : reader.type;
  const writers = versions.map((writer) => knownWriter(reader, readType, writer));
  // Per serde, not per module: grows to the largest record this serde has written.
  const scratch = new AvroScratch(INITIAL_SCRATCH_BYTES, header);
  // What serialize returns: carved from slabs, not one allocation from Node's pool each (CopySlab).
  const copies = new CopySlab();
  const handWritten = options.handWrittenBody?.fingerprint === reader.fingerprint ? options.handWrittenBody.write : undefined;
  const bodyWriter = handWritten && new AvroBinaryWriter(INITIAL_SCRATCH_BYTES);
  if (bodyWriter) header.copy(bodyWriter.scratch);

  function findWriter(bytes: Buffer): KnownWriter {
    const low = bytes.readUInt32LE(2);
    const high = bytes.readUInt32LE(6);
    for (const writer of writers) {
      if (writer.low === low && writer.high === high) return writer;
    }
    const fingerprint = writerFingerprint(bytes);
    const other = registry.byFingerprint(fingerprint);
    const hex = `0x${fingerprint.toString(16).padStart(16, '0')}`;
    throw new BadRecordError(
      'DECODE_FAILED',
      other
        ? `written with ${other.file} (family '${other.family}'), not with a '${family}' schema`
        : `unknown writer schema fingerprint ${hex}: no version of '${family}' in the registry has it`,
    );
  }

  return {
    name: `avro:${family}.v${reader.version}`,
    schema: reader,

    serialize(value: T): Buffer {
      if (handWritten && bodyWriter) {
        try {
          handWritten(bodyWriter.reset(SINGLE_OBJECT_HEADER_LENGTH), value);
          return bodyWriter.copy();
        } catch {
          // A value the schema refuses: avsc below names the field (or, were the hand-written
          // writer stricter than the schema, writes it).
        }
      }
      let encoded: Buffer;
      try {
        encoded = scratch.encode(reader.type, value, SINGLE_OBJECT_HEADER_LENGTH);
      } catch (cause) {
        throw validationError(reader.type, value, cause);
      }
      return copies.copy(encoded);
    },

    deserialize(bytes: Buffer): T {
      assertSingleObjectHeader(bytes);
      const writer = findWriter(bytes);
      if (writer.unreadable) {
        throw new BadRecordError('DECODE_FAILED', writer.unreadable);
      }
      try {
        writer.checkBody(bytes, SINGLE_OBJECT_HEADER_LENGTH);
        // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- avsc types decoded values as any; the schema vouches for T.
        const { value, offset } = readType.decode(bytes, SINGLE_OBJECT_HEADER_LENGTH, writer.resolver);
        if (offset !== bytes.length) throw new Error(offset < 0 ? 'truncated body' : 'trailing bytes');
        return value as T;
      } catch (cause) {
        throw new BadRecordError('DECODE_FAILED', `not a valid ${writer.schema.file} body: ${errorMessage(cause)}`, { cause });
      }
    },
  };
}

function readerSchema(
  registry: SchemaRegistry,
  family: string,
  versions: readonly RegisteredSchema[],
  version: number | undefined,
): RegisteredSchema {
  if (version === undefined) return versions[versions.length - 1];
  if (!Number.isInteger(version) || version < 1) {
    throw new ConfigError('/serde/version', `must be a positive integer, got ${String(version)}`);
  }
  const schema = registry.version(family, version);
  if (!schema) {
    throw new ConfigError('/serde/version', `'${family}' has no v${version}; known: ${versions.map((v) => `v${v.version}`).join(', ')}`);
  }
  return schema;
}

function knownWriter(reader: RegisteredSchema, readType: Type, writer: RegisteredSchema): KnownWriter {
  const header = singleObjectHeader(writer.fingerprint);
  const base = {
    schema: writer,
    low: header.readUInt32LE(2),
    high: header.readUInt32LE(6),
    checkBody: compileBodyCheck(writer.canonicalSchema),
  };
  if (writer.fingerprint === reader.fingerprint && readType === reader.type) return base;
  try {
    return { ...base, resolver: readType.createResolver(writer.type) };
  } catch (cause) {
    // The registry guarantees newer readers read older writers; only a pinned older reader
    // facing a newer writer can land here.
    return { ...base, unreadable: `${reader.file} cannot read records written with ${writer.file}: ${errorMessage(cause)}` };
  }
}

/**
 * The reader's schema without the `skipOnRead` fields: resolving a writer into it skips their
 * bytes (Avro schema resolution drops writer fields the reader lacks), reading nothing into JS.
 */
function projectedType(reader: RegisteredSchema, paths: readonly string[]): Type {
  // exportAttrs keeps the defaults, which resolving older writers needs.
  const schema = reader.type.schema({ exportAttrs: true }) as avro.schema.RecordType;
  paths.forEach((path, i) => {
    const where = `/serde/skipOnRead/${i}`;
    const names = path.split('.');
    let record: avro.schema.RecordType = schema;
    for (let depth = 0; depth < names.length; depth++) {
      const index = record.fields.findIndex((field) => field.name === names[depth]);
      if (index < 0) throw new ConfigError(where, `${reader.file} has no field '${names.slice(0, depth + 1).join('.')}'`);
      if (depth === names.length - 1) {
        record.fields.splice(index, 1);
        break;
      }
      const inner = recordWithin(record.fields[index].type);
      if (!inner)
        throw new ConfigError(where, `'${names.slice(0, depth + 1).join('.')}' in ${reader.file} holds no record to skip a field of`);
      record = inner;
    }
  });
  return avro.Type.forSchema(schema, { wrapUnions: 'never', omitRecordMethods: true });
}

/** The record a field holds directly, or as the items of an array, the values of a map, or the one record branch of a union. */
function recordWithin(schema: avro.Schema): avro.schema.RecordType | undefined {
  if (Array.isArray(schema)) {
    const records = schema.map(recordWithin).filter((record) => record !== undefined);
    return records.length === 1 ? records[0] : undefined;
  }
  if (typeof schema !== 'object' || schema === null) return undefined;
  const typed = schema as { type: string; items?: avro.Schema; values?: avro.Schema };
  if (typed.type === 'record') return schema as avro.schema.RecordType;
  if (typed.type === 'array' && typed.items) return recordWithin(typed.items);
  if (typed.type === 'map' && typed.values) return recordWithin(typed.values);
  return undefined;
}

function validationError(type: Type, value: unknown, cause: unknown): BadRecordError {
  const problems: { field: string; value: unknown; expected: Type }[] = [];
  type.isValid(value, {
    errorHook: (path, invalid, expected) => problems.push({ field: fieldPath(type, path), value: invalid, expected }),
  });
  if (problems.length === 0) {
    return new BadRecordError('ENCODE_FAILED', `cannot encode as ${type.name}: ${errorMessage(cause)}`, { cause });
  }
  const [first] = problems;
  const others = problems.slice(1).map((problem) => problem.field || '(record)');
  const more = others.length > 0 ? `; also invalid: ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''}` : '';
  return new BadRecordError(
    'VALIDATION_FAILED',
    `${describeValue(first.value)} is not ${describeType(first.expected)} (schema ${type.name})${more}`,
    { field: first.field || undefined, cause },
  );
}

function describeType(type: Type): string {
  const shape = type as Type & { types?: Type[]; symbols?: string[] };
  if (shape.types) return shape.types.map(describeType).join(' | ');
  if (shape.symbols) return `one of ${shape.symbols.join(', ')}`;
  return type.name ?? type.typeName;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined (missing)';
  const text = typeof value === 'string' ? JSON.stringify(value) : safeJson(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
