import type { CanonicalSchema } from './parsing-canonical-form.js';

/**
 * A structural pass over an Avro binary body before avsc decodes it. avsc trusts block counts:
 * a 7-byte record claiming an array of 2^31 items makes it allocate until the process runs out
 * of heap. One poisoned record must cost a dead-letter entry, not the task, so every count,
 * length, union branch and enum index is checked against the bytes that are actually there,
 * without allocating.
 *
 * Throws a plain Error describing the first problem; the serde turns it into DECODE_FAILED.
 */
export type BodyCheck = (bytes: Uint8Array, start: number) => void;

interface Cursor {
  readonly bytes: Uint8Array;
  pos: number;
}

type Check = (cursor: Cursor) => void;

/** Items that encode to zero bytes (null, empty records) cannot be bounded by the input size. */
const MAX_ZERO_WIDTH_ITEMS = 65_536;
const MAX_VARINT_BYTES = 10;

export function compileBodyCheck(schema: CanonicalSchema): BodyCheck {
  const definitions = new Map<string, CanonicalSchema>();
  collectDefinitions(schema, definitions);
  const compiled = new Map<string, Check>();
  const root = compile(schema, definitions, compiled);
  return (bytes, start) => {
    const cursor: Cursor = { bytes, pos: start };
    root(cursor);
    if (cursor.pos < bytes.length) {
      throw new Error(`${bytes.length - cursor.pos} trailing bytes after the record`);
    }
  };
}

function collectDefinitions(schema: CanonicalSchema, into: Map<string, CanonicalSchema>): void {
  if (typeof schema === 'string') return;
  if (Array.isArray(schema)) {
    for (const branch of schema) collectDefinitions(branch, into);
    return;
  }
  switch (schema.type) {
    case 'record':
      into.set(schema.name, schema);
      for (const field of schema.fields) collectDefinitions(field.type, into);
      return;
    case 'enum':
    case 'fixed':
      into.set(schema.name, schema);
      return;
    case 'array':
      collectDefinitions(schema.items, into);
      return;
    case 'map':
      collectDefinitions(schema.values, into);
      return;
  }
}

function truncated(): Error {
  return new Error('truncated: the body ends before the record does');
}

function readLong(cursor: Cursor): number {
  // Most varints here (lengths, union branches, small counts) fit in one byte.
  const byte = cursor.bytes[cursor.pos];
  if (byte < 0x80) {
    cursor.pos++;
    return (byte >> 1) ^ -(byte & 1);
  }
  return readLongSlow(cursor);
}

function readLongSlow(cursor: Cursor): number {
  const { bytes } = cursor;
  let value = 0;
  let scale = 1;
  let read = 0;
  let byte: number;
  do {
    if (cursor.pos >= bytes.length) throw truncated();
    if (read === MAX_VARINT_BYTES) throw new Error(`malformed varint at byte ${cursor.pos}`);
    byte = bytes[cursor.pos++];
    // Float arithmetic: a hostile varint may exceed 2^53, and only its magnitude matters here.
    value += (byte & 0x7f) * scale;
    scale *= 128;
    read++;
  } while (byte & 0x80);
  return value % 2 ? -(value + 1) / 2 : value / 2;
}

function skip(cursor: Cursor, length: number, what: string): void {
  if (length < 0) throw new Error(`negative ${what} length ${length} at byte ${cursor.pos}`);
  if (cursor.pos + length > cursor.bytes.length) throw truncated();
  cursor.pos += length;
}

function minEncodedSize(schema: CanonicalSchema, definitions: Map<string, CanonicalSchema>, visiting: Set<string>): number {
  if (typeof schema === 'string') {
    switch (schema) {
      case 'null':
        return 0;
      case 'float':
        return 4;
      case 'double':
        return 8;
      case 'boolean':
      case 'int':
      case 'long':
      case 'bytes':
      case 'string':
        return 1;
      default: {
        const definition = definitions.get(schema);
        if (!definition || visiting.has(schema)) return 0;
        visiting.add(schema);
        const size = minEncodedSize(definition, definitions, visiting);
        visiting.delete(schema);
        return size;
      }
    }
  }
  if (Array.isArray(schema)) return 1;
  switch (schema.type) {
    case 'record':
      return schema.fields.reduce((sum, field) => sum + minEncodedSize(field.type, definitions, visiting), 0);
    case 'fixed':
      return schema.size;
    default:
      return 1;
  }
}

function compile(schema: CanonicalSchema, definitions: Map<string, CanonicalSchema>, compiled: Map<string, Check>): Check {
  if (typeof schema === 'string') {
    switch (schema) {
      case 'null':
        return () => {};
      case 'boolean':
        return (cursor) => {
          if (cursor.pos >= cursor.bytes.length) throw truncated();
          const byte = cursor.bytes[cursor.pos++];
          if (byte > 1) throw new Error(`invalid boolean byte ${byte} at byte ${cursor.pos - 1}`);
        };
      case 'int':
      case 'long':
        return (cursor) => void readLong(cursor);
      case 'float':
        return (cursor) => skip(cursor, 4, 'float');
      case 'double':
        return (cursor) => skip(cursor, 8, 'double');
      case 'bytes':
      case 'string':
        return (cursor) => skip(cursor, readLong(cursor), schema);
      default: {
        // Named reference; resolved lazily so recursive types compile.
        const definition = definitions.get(schema);
        if (!definition) throw new Error(`undefined type ${schema}`);
        return (cursor) => {
          let check = compiled.get(schema);
          if (!check) {
            check = compile(definition, definitions, compiled);
            compiled.set(schema, check);
          }
          check(cursor);
        };
      }
    }
  }
  if (Array.isArray(schema)) {
    const branches = schema.map((branch) => compile(branch, definitions, compiled));
    return (cursor) => {
      const at = cursor.pos;
      const index = readLong(cursor);
      if (!(index >= 0 && index < branches.length)) throw new Error(`invalid union branch ${index} at byte ${at}`);
      branches[index](cursor);
    };
  }
  switch (schema.type) {
    case 'record': {
      const fields = schema.fields.map((field) => compile(field.type, definitions, compiled));
      return (cursor) => {
        for (let i = 0; i < fields.length; i++) fields[i](cursor);
      };
    }
    case 'enum': {
      const symbolCount = schema.symbols.length;
      return (cursor) => {
        const at = cursor.pos;
        const index = readLong(cursor);
        if (!(index >= 0 && index < symbolCount)) throw new Error(`invalid ${schema.name} symbol index ${index} at byte ${at}`);
      };
    }
    case 'fixed':
      return (cursor) => skip(cursor, schema.size, schema.name);
    case 'array':
      return blocks(compile(schema.items, definitions, compiled), minEncodedSize(schema.items, definitions, new Set()));
    case 'map': {
      const value = compile(schema.values, definitions, compiled);
      const key = compile('string', definitions, compiled);
      return blocks(
        (cursor) => {
          key(cursor);
          value(cursor);
        },
        1 + minEncodedSize(schema.values, definitions, new Set()),
      );
    }
  }
}

/** Arrays and maps: blocks of `count` items until a zero count; a negative count carries a byte size. */
function blocks(item: Check, minItemSize: number): Check {
  return (cursor) => {
    for (;;) {
      const at = cursor.pos;
      let count = readLong(cursor);
      if (count === 0) return;
      if (count < 0) {
        count = -count;
        const size = readLong(cursor);
        if (size < 0 || cursor.pos + size > cursor.bytes.length) throw new Error(`invalid block size ${size} at byte ${at}`);
      }
      const remaining = cursor.bytes.length - cursor.pos;
      const fits = minItemSize > 0 ? count * minItemSize <= remaining : count <= MAX_ZERO_WIDTH_ITEMS;
      if (!fits) throw new Error(`block of ${count} items at byte ${at} cannot fit in the remaining ${remaining} bytes`);
      for (let i = 0; i < count; i++) item(cursor);
    }
  };
}
