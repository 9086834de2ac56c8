import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { Type } from 'avsc';
import { ConfigError, errorMessage } from '../errors.js';
import { canonicalSchema, type CanonicalSchema } from './parsing-canonical-form.js';
import { rabinFingerprint64 } from './rabin-fingerprint.js';

/** One schema file as given to the registry: `<family>.v<N>.avsc` and its parsed JSON. */
export interface SchemaSource {
  readonly file: string;
  readonly schema: unknown;
}

export interface RegisteredSchema {
  /** File name stem before `.vN`, e.g. `trajectory-event`. */
  readonly family: string;
  readonly version: number;
  readonly file: string;
  readonly type: Type;
  readonly canonicalSchema: CanonicalSchema;
  /** The exact text that is fingerprinted. */
  readonly canonicalForm: string;
  /** Unsigned CRC-64-AVRO of the canonical form; the single-object header carries it little-endian. */
  readonly fingerprint: bigint;
}

const SCHEMA_FILE = /^([a-z][a-z0-9-]*)\.v([1-9][0-9]*)\.avsc$/;

/**
 * A local, file-based schema registry: every `schemas/*.avsc`, indexed by family and by
 * fingerprint. Loading enforces the evolution policy (schemas/README.md): within a family every
 * version must be able to read every earlier one, so a breaking edit fails at startup rather
 * than at the first old record.
 */
export class SchemaRegistry {
  private readonly families_ = new Map<string, RegisteredSchema[]>();
  private readonly fingerprints = new Map<bigint, RegisteredSchema>();

  /** Loads every `*.avsc` in `directory` (default: the repository's `schemas/`). */
  static fromDirectory(directory: string = SchemaRegistry.defaultDirectory()): SchemaRegistry {
    if (!existsSync(directory)) {
      throw new ConfigError('/schemas', `schema directory ${directory} does not exist`);
    }
    const sources = readdirSync(directory)
      .filter((file) => file.endsWith('.avsc'))
      .sort()
      .map((file): SchemaSource => {
        const path = join(directory, file);
        try {
          return { file, schema: JSON.parse(readFileSync(path, 'utf8')) };
        } catch (cause) {
          throw new ConfigError(`/schemas/${file}`, `cannot read ${path}: ${errorMessage(cause)}`);
        }
      });
    return new SchemaRegistry(sources);
  }

  /** `schemas/` at the repository root, whether running from src/ (tsx) or dist/src/ (tsc). */
  static defaultDirectory(): string {
    const candidates = ['../../schemas', '../../../schemas'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
    return candidates.find((candidate) => existsSync(candidate)) ?? candidates[0];
  }

  constructor(sources: readonly SchemaSource[]) {
    for (const source of sources) {
      const schema = register(source);
      const versions = this.families_.get(schema.family) ?? [];
      if (versions.some((existing) => existing.version === schema.version)) {
        throw new ConfigError(`/schemas/${source.file}`, `${schema.family} v${schema.version} is defined twice`);
      }
      versions.push(schema);
      this.families_.set(schema.family, versions);
    }
    for (const versions of this.families_.values()) {
      versions.sort((a, b) => a.version - b.version);
      assertBackwardCompatible(versions);
      for (const schema of versions) {
        // Versions that differ only in docs or defaults share a fingerprint and read the same bytes
        // the same way, so the oldest one stands for all of them.
        if (!this.fingerprints.has(schema.fingerprint)) this.fingerprints.set(schema.fingerprint, schema);
      }
    }
  }

  families(): string[] {
    return [...this.families_.keys()].sort();
  }

  /** All versions of a family, oldest first; empty when the family is unknown. */
  versions(family: string): readonly RegisteredSchema[] {
    return this.families_.get(family) ?? [];
  }

  latest(family: string): RegisteredSchema | undefined {
    const versions = this.versions(family);
    return versions[versions.length - 1];
  }

  version(family: string, version: number): RegisteredSchema | undefined {
    return this.versions(family).find((schema) => schema.version === version);
  }

  /** The schema a single-object record names in its header, if any family knows it. */
  byFingerprint(fingerprint: bigint): RegisteredSchema | undefined {
    return this.fingerprints.get(fingerprint);
  }
}

function register(source: SchemaSource): RegisteredSchema {
  const where = `/schemas/${source.file}`;
  const match = SCHEMA_FILE.exec(source.file);
  if (!match) {
    throw new ConfigError(where, 'schema files are named <family>.v<N>.avsc (lower-case family, N >= 1)');
  }
  let type: Type;
  try {
    // Unions are always plain values (null | T), never wrapper objects, so records.ts types
    // hold; a union avsc could not tell apart without wrapping is rejected here.
    type = avro.Type.forSchema(source.schema as avro.Schema, { wrapUnions: 'never', omitRecordMethods: true });
  } catch (cause) {
    throw new ConfigError(where, `invalid Avro schema: ${errorMessage(cause)}`);
  }
  if (type.typeName !== 'record') {
    throw new ConfigError(`${where}/type`, `a top-level schema must be a record, not ${type.typeName}`);
  }
  const canonical = canonicalSchema(source.schema);
  const canonicalForm = JSON.stringify(canonical);
  return {
    family: match[1],
    version: Number(match[2]),
    file: source.file,
    type,
    canonicalSchema: canonical,
    canonicalForm,
    fingerprint: rabinFingerprint64(Buffer.from(canonicalForm, 'utf8')),
  };
}

function assertBackwardCompatible(versions: readonly RegisteredSchema[]): void {
  for (let reader = 1; reader < versions.length; reader++) {
    const newer = versions[reader];
    for (let writer = 0; writer < reader; writer++) {
      const older = versions[writer];
      try {
        newer.type.createResolver(older.type);
      } catch (cause) {
        throw new ConfigError(
          `/schemas/${newer.file}`,
          `cannot read records written with ${older.file} (not backward compatible): ${errorMessage(cause)}`,
        );
      }
    }
  }
}
