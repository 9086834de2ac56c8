import { ConfigError } from '../errors.js';

/**
 * The Avro "Parsing Canonical Form" of a schema (Avro spec, "Transforming into Parsing
 * Canonical Form"): primitives as bare names, full names everywhere, only the attributes that
 * affect parsing, in a fixed order. Two schemas that read the same bytes the same way have the
 * same canonical form, hence the same fingerprint. avsc's `schema()` comes close but is not
 * specified to match; this follows the spec's steps so fingerprints agree with Java, Python,
 * Go and Rust readers.
 */
export type CanonicalSchema =
  | string
  | CanonicalSchema[]
  | { name: string; type: 'record'; fields: { name: string; type: CanonicalSchema }[] }
  | { name: string; type: 'enum'; symbols: string[] }
  | { name: string; type: 'fixed'; size: number }
  | { type: 'array'; items: CanonicalSchema }
  | { type: 'map'; values: CanonicalSchema };

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** The canonical form as the exact JSON text whose UTF-8 bytes are fingerprinted. */
export function parsingCanonicalForm(schema: unknown): string {
  return JSON.stringify(canonicalSchema(schema));
}

/** The canonical form as data (named types appear in full once, then as their full name). */
export function canonicalSchema(schema: unknown): CanonicalSchema {
  return normalise(schema, '', '');
}

function fullName(name: string, namespace: string): string {
  return name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
}

function namespaceOf(fullname: string): string {
  const dot = fullname.lastIndexOf('.');
  return dot < 0 ? '' : fullname.slice(0, dot);
}

function normalise(schema: unknown, namespace: string, path: string): CanonicalSchema {
  if (typeof schema === 'string') {
    return PRIMITIVES.has(schema) ? schema : fullName(schema, namespace);
  }
  if (Array.isArray(schema)) {
    return schema.map((branch, i) => normalise(branch, namespace, `${path}/${i}`));
  }
  if (schema === null || typeof schema !== 'object') {
    throw new ConfigError(path || '/', `not an Avro schema: ${JSON.stringify(schema)}`);
  }
  const node = schema as Record<string, unknown>;
  const type = node.type;
  if (typeof type !== 'string') {
    // {"type": {...}} wraps a nested schema.
    return normalise(type, namespace, `${path}/type`);
  }
  if (PRIMITIVES.has(type)) {
    // logicalType and other attributes do not change how bytes are read.
    return type;
  }
  switch (type) {
    case 'array':
      return { type, items: normalise(node.items, namespace, `${path}/items`) };
    case 'map':
      return { type, values: normalise(node.values, namespace, `${path}/values`) };
    case 'record':
    case 'error':
    case 'enum':
    case 'fixed': {
      if (typeof node.name !== 'string' || node.name === '') {
        throw new ConfigError(`${path}/name`, `a ${type} needs a name`);
      }
      const explicitNamespace = typeof node.namespace === 'string' ? node.namespace : namespace;
      const name = fullName(node.name, explicitNamespace);
      if (type === 'enum') {
        return { name, type, symbols: [...(node.symbols as string[])] };
      }
      if (type === 'fixed') {
        return { name, type, size: Number(node.size) };
      }
      // Nested definitions inherit the enclosing type's namespace, not the file's.
      const inner = namespaceOf(name);
      const fields = Array.isArray(node.fields) ? node.fields : [];
      return {
        name,
        type: 'record',
        fields: fields.map((field: Record<string, unknown>, i: number) => ({
          name: String(field.name),
          type: normalise(field.type, inner, `${path}/fields/${i}/type`),
        })),
      };
    }
    default:
      // A named reference written as {"type": "Name"}.
      return fullName(type, namespace);
  }
}
