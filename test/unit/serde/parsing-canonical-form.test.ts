import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { SchemaRegistry, parsingCanonicalForm } from '../../../src/serde/index.js';

/** Input → canonical pairs from Apache Avro's share/test/data/schema-tests.txt. */
const AVRO_REFERENCE: [input: string, canonical: string][] = [
  ['{"type":"null"}', '"null"'],
  ['{"type":"long"}', '"long"'],
  ['[ "int" , {"type":"boolean"} ]', '["int","boolean"]'],
  ['{"fields":[], "type":"record", "name":"foo"}', '{"name":"foo","type":"record","fields":[]}'],
  ['{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}', '{"name":"x.y.foo","type":"record","fields":[]}'],
  ['{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}', '{"name":"a.b.foo","type":"record","fields":[]}'],
  ['{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}', '{"name":"foo","type":"record","fields":[]}'],
  [
    '{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":true},\n{"order":"descending","name":"f2","doc":"Hello","type":"int"}],"type":"record", "name":"foo"}',
    '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
  ],
  [
    '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}',
    '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
  ],
  ['{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}', '{"name":"x.y.z.foo","type":"fixed","size":32}'],
  ['{ "items":{"type":"null"}, "type":"array"}', '{"type":"array","items":"null"}'],
  ['{ "values":"string", "type":"map"}', '{"type":"map","values":"string"}'],
  [
    '{"name":"PigValue","type":"record",\n   "fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
    '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
  ],
];

describe('parsingCanonicalForm', () => {
  it.each(AVRO_REFERENCE)('matches the Apache Avro reference for %s', (input, canonical) => {
    expect(parsingCanonicalForm(JSON.parse(input))).toBe(canonical);
  });

  it('qualifies nested definitions and references with the enclosing namespace and drops logical types', () => {
    const schema = {
      type: 'record',
      name: 'Outer',
      namespace: 'dev.agentrec',
      fields: [
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'inner', type: { type: 'record', name: 'Inner', fields: [] } },
        { name: 'again', type: 'Inner' },
        { name: 'elsewhere', type: { type: 'enum', name: 'other.Kind', symbols: ['A'] } },
      ],
    };
    expect(parsingCanonicalForm(schema)).toBe(
      '{"name":"dev.agentrec.Outer","type":"record","fields":[' +
        '{"name":"at","type":"long"},' +
        '{"name":"inner","type":{"name":"dev.agentrec.Inner","type":"record","fields":[]}},' +
        '{"name":"again","type":"dev.agentrec.Inner"},' +
        '{"name":"elsewhere","type":{"name":"other.Kind","type":"enum","symbols":["A"]}}]}',
    );
  });

  it("agrees with avsc's independent canonical schema for every schema in schemas/", () => {
    const registry = SchemaRegistry.fromDirectory();
    for (const family of registry.families()) {
      for (const schema of registry.versions(family)) {
        const avscCanonical = JSON.stringify(schema.type.schema());
        expect(schema.canonicalForm, schema.file).toBe(avscCanonical);
      }
    }
  });

  it('rejects a named type without a name, naming the path', () => {
    const bad = { type: 'record', name: 'R', fields: [{ name: 'e', type: { type: 'enum', symbols: ['A'] } }] };
    expect(() => parsingCanonicalForm(bad)).toThrow(ConfigError);
    expect(() => parsingCanonicalForm(bad)).toThrow('/fields/0/type/name');
  });
});
