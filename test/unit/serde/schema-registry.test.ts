import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { SchemaRegistry, parsingCanonicalForm, rabinFingerprint64, type SchemaSource } from '../../../src/serde/index.js';

const v1 = {
  type: 'record',
  name: 'Thing',
  namespace: 'dev.agentrec',
  fields: [{ name: 'id', type: 'string' }],
};

function withField(field: Record<string, unknown>) {
  return { ...v1, fields: [...v1.fields, field] };
}

describe('SchemaRegistry over schemas/', () => {
  const registry = SchemaRegistry.fromDirectory();

  it('indexes every family by file name stem, versions oldest first', () => {
    expect(registry.families()).toEqual(['dead-letter', 'score-record', 'trajectory-event']);
    expect(registry.versions('trajectory-event').map((schema) => schema.version)).toEqual([1, 2]);
    expect(registry.latest('trajectory-event')?.file).toBe('trajectory-event.v2.avsc');
    expect(registry.version('trajectory-event', 1)?.file).toBe('trajectory-event.v1.avsc');
    expect(registry.versions('nope')).toEqual([]);
    expect(registry.latest('nope')).toBeUndefined();
  });

  it('fingerprints each schema as CRC-64-AVRO of its parsing canonical form', () => {
    for (const family of registry.families()) {
      for (const schema of registry.versions(family)) {
        expect(schema.canonicalForm).toBe(parsingCanonicalForm(schema.type.schema()));
        expect(schema.fingerprint).toBe(rabinFingerprint64(Buffer.from(schema.canonicalForm)));
        expect(registry.byFingerprint(schema.fingerprint)).toBe(schema);
      }
    }
    expect(registry.byFingerprint(0n)).toBeUndefined();
  });

  it('matches the fingerprints published in schemas/README.md (a published schema was edited in place otherwise)', () => {
    const readme = readFileSync(join(SchemaRegistry.defaultDirectory(), 'README.md'), 'utf8');
    const published = new Map(
      [...readme.matchAll(/^\| `([a-z-]+)\.v(\d+)` \| `0x([0-9a-f]{16})` \|$/gm)].map((m) => [`${m[1]}.v${m[2]}`, m[3]]),
    );
    const actual = new Map(
      registry
        .families()
        .flatMap((family) =>
          registry.versions(family).map((schema) => [`${family}.v${schema.version}`, schema.fingerprint.toString(16).padStart(16, '0')]),
        ),
    );
    expect(published).toEqual(actual);
  });

  it('puts every schema in the dev.agentrec namespace', () => {
    for (const family of registry.families()) {
      for (const schema of registry.versions(family)) {
        expect(schema.type.name, schema.file).toMatch(/^dev\.agentrec\.[A-Z]\w+$/);
      }
    }
  });
});

describe('SchemaRegistry enforces the evolution policy', () => {
  const load = (sources: SchemaSource[]) => () => new SchemaRegistry(sources);

  it('accepts a version that adds a field with a default', () => {
    const registry = new SchemaRegistry([
      { file: 'thing.v1.avsc', schema: v1 },
      { file: 'thing.v2.avsc', schema: withField({ name: 'note', type: ['null', 'string'], default: null }) },
    ]);
    expect(registry.versions('thing')).toHaveLength(2);
  });

  it('rejects a version that adds a field without a default, naming the file', () => {
    const attempt = load([
      { file: 'thing.v1.avsc', schema: v1 },
      { file: 'thing.v2.avsc', schema: withField({ name: 'note', type: 'string' }) },
    ]);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow('/schemas/thing.v2.avsc');
    expect(attempt).toThrow('thing.v1.avsc');
  });

  it('checks every older version, not just the previous one', () => {
    const attempt = load([
      { file: 'thing.v1.avsc', schema: v1 },
      { file: 'thing.v2.avsc', schema: withField({ name: 'note', type: 'string', default: '' }) },
      // v3 can read v2 (note present) but not v1: the default is gone.
      { file: 'thing.v3.avsc', schema: withField({ name: 'note', type: 'string' }) },
    ]);
    expect(attempt).toThrow('/schemas/thing.v3.avsc');
    expect(attempt).toThrow('thing.v1.avsc');
  });

  it('rejects renaming the record without an alias', () => {
    const attempt = load([
      { file: 'thing.v1.avsc', schema: v1 },
      { file: 'thing.v2.avsc', schema: { ...v1, name: 'Renamed' } },
    ]);
    expect(attempt).toThrow('/schemas/thing.v2.avsc');
  });

  it('accepts renaming with an alias to the old name', () => {
    const registry = new SchemaRegistry([
      { file: 'thing.v1.avsc', schema: v1 },
      { file: 'thing.v2.avsc', schema: { ...v1, name: 'Renamed', aliases: ['dev.agentrec.Thing'] } },
    ]);
    expect(registry.latest('thing')?.type.name).toBe('dev.agentrec.Renamed');
  });

  it.each([
    ['a file name without a version', 'thing.avsc', v1, '/schemas/thing.avsc'],
    ['an invalid schema', 'thing.v1.avsc', { type: 'record', name: 'T', fields: [{ name: 'x', type: 'nope' }] }, '/schemas/thing.v1.avsc'],
    ['a top-level non-record', 'thing.v1.avsc', { type: 'enum', name: 'E', symbols: ['A'] }, '/schemas/thing.v1.avsc/type'],
    [
      'a union of two records (would need wrapper objects)',
      'thing.v1.avsc',
      withField({
        name: 'either',
        type: [
          { type: 'record', name: 'A', fields: [] },
          { type: 'record', name: 'B', fields: [] },
        ],
      }),
      '/schemas/thing.v1.avsc',
    ],
  ])('rejects %s', (_label, file, schema, path) => {
    expect(load([{ file, schema }])).toThrow(ConfigError);
    expect(load([{ file, schema }])).toThrow(path);
  });

  it('rejects the same family and version twice', () => {
    expect(
      load([
        { file: 'thing.v1.avsc', schema: v1 },
        { file: 'thing.v1.avsc', schema: v1 },
      ]),
    ).toThrow('defined twice');
  });
});

describe('SchemaRegistry.fromDirectory', () => {
  let directory: string | undefined;
  afterEach(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
    directory = undefined;
  });

  it('loads only .avsc files from the given directory', () => {
    directory = mkdtempSync(join(tmpdir(), 'agentrec-schemas-'));
    writeFileSync(join(directory, 'thing.v1.avsc'), JSON.stringify(v1));
    writeFileSync(join(directory, 'README.md'), '# not a schema');
    expect(SchemaRegistry.fromDirectory(directory).families()).toEqual(['thing']);
  });

  it('names the file that is not JSON', () => {
    directory = mkdtempSync(join(tmpdir(), 'agentrec-schemas-'));
    writeFileSync(join(directory, 'thing.v1.avsc'), '{ "type": ');
    expect(() => SchemaRegistry.fromDirectory(directory)).toThrow('/schemas/thing.v1.avsc');
  });

  it('names a missing directory', () => {
    expect(() => SchemaRegistry.fromDirectory('/nonexistent/agentrec')).toThrow(ConfigError);
  });
});
