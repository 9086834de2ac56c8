import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { SchemaRegistry, canonicalSchema } from '../../../src/serde/index.js';
import { compileBodyCheck } from '../../../src/serde/compile-body-check.js';

describe('compileBodyCheck', () => {
  const registry = SchemaRegistry.fromDirectory();

  it('accepts every body avsc writes for random values of each schema, and rejects every strict prefix', () => {
    for (const family of registry.families()) {
      for (const schema of registry.versions(family)) {
        const check = compileBodyCheck(schema.canonicalSchema);
        for (let i = 0; i < 50; i++) {
          const body = schema.type.toBuffer(schema.type.random());
          expect(() => check(body, 0), schema.file).not.toThrow();
          const cut = (i * 7919) % body.length;
          expect(() => check(body.subarray(0, cut), 0), `${schema.file} cut at ${cut}/${body.length}`).toThrow();
        }
      }
    }
  });

  it('follows recursive named types', () => {
    const schema = {
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'label', type: 'string' },
        { name: 'children', type: { type: 'array', items: 'Node' } },
        { name: 'next', type: ['null', 'Node'] },
      ],
    };
    const type = avro.Type.forSchema(schema as avro.Schema);
    const check = compileBodyCheck(canonicalSchema(schema));
    const value = { label: 'a', children: [{ label: 'b', children: [], next: null }], next: { label: 'c', children: [], next: null } };
    const body = type.toBuffer(value);
    expect(() => check(body, 0)).not.toThrow();
    expect(() => check(body.subarray(0, body.length - 1), 0)).toThrow('truncated');
  });

  it('accepts negative block counts with a byte size, as other writers emit them', () => {
    const check = compileBodyCheck(canonicalSchema({ type: 'array', items: 'int' }));
    // count -2 (zig-zag 3), byte size 2 (zig-zag 4), items 1 and 2, end.
    expect(() => check(Buffer.from([0x03, 0x04, 0x02, 0x04, 0x00]), 0)).not.toThrow();
    expect(() => check(Buffer.from([0x03, 0x7e, 0x02, 0x04, 0x00]), 0)).toThrow('block size');
  });

  it.each([
    ['an out-of-range union branch', ['null', 'string'], [0x04], 'union branch'],
    ['an out-of-range enum index', { type: 'enum', name: 'E', symbols: ['A', 'B'] }, [0x04], 'symbol index'],
    ['a negative string length', 'string', [0x01], 'negative'],
    ['a boolean byte other than 0/1', 'boolean', [0x02], 'boolean'],
    ['a varint longer than 10 bytes', 'long', [...Array(11).fill(0xff), 0x01], 'varint'],
    ['a map claiming more entries than bytes', { type: 'map', values: 'string' }, [0x14, 0x02, 0x61, 0x00], 'cannot fit'],
    ['trailing bytes', 'int', [0x02, 0x00], 'trailing'],
  ])('rejects %s', (_label, schema, bytes, message) => {
    expect(() => compileBodyCheck(canonicalSchema(schema))(Buffer.from(bytes), 0)).toThrow(message);
  });

  it('bounds zero-width items (null) by a fixed limit rather than by the input size', () => {
    const check = compileBodyCheck(canonicalSchema({ type: 'array', items: 'null' }));
    expect(() => check(Buffer.from([0xe8, 0x07, 0x00]), 0)).not.toThrow(); // 500 nulls
    expect(() => check(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10, 0x00]), 0)).toThrow('cannot fit');
  });
});
