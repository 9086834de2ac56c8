import { ConfigError } from '../../errors.js';

/** Namespaces agentrec uses; any other string without a NUL byte works too. */
export type RowNamespace = 'user' | 'feature' | 'action' | (string & {});

const SEPARATOR = 0x00;

/**
 * The exact store key of one embedding row: UTF-8 namespace, a 0x00 byte, UTF-8 id. Namespaces
 * may not contain NUL, so the first 0x00 always ends the namespace and two different
 * (namespace, id) pairs can never encode to the same bytes — unlike hashed feature IDs, no two
 * features ever share a row. Ids are opaque (`tool=git×domain=web` is fine, NUL included).
 *
 * @example rowKey('feature', 'tool=git') // <Buffer 66 65 61 74 75 72 65 00 74 6f 6f 6c 3d 67 69 74>
 */
export function rowKey(namespace: RowNamespace, id: string): Buffer {
  if (namespace.length === 0 || namespace.includes('\u0000')) {
    throw new ConfigError('/namespace', `must be non-empty and free of NUL, got ${JSON.stringify(namespace)}`);
  }
  const namespaceBytes = Buffer.byteLength(namespace, 'utf8');
  // Buffer.alloc (not from/allocUnsafe): pooled buffers are views on a shared 8 KiB slab, and a
  // cache holding a few keys per slab would keep whole slabs alive.
  const key = Buffer.alloc(namespaceBytes + 1 + Buffer.byteLength(id, 'utf8'));
  key.write(namespace, 0, 'utf8');
  key[namespaceBytes] = SEPARATOR;
  key.write(id, namespaceBytes + 1, 'utf8');
  return key;
}

/** Inverse of rowKey(); undefined for keys that are not row keys. */
export function parseRowKey(key: Buffer): { namespace: string; id: string } | undefined {
  const separator = key.indexOf(SEPARATOR);
  if (separator <= 0) return undefined;
  return { namespace: key.toString('utf8', 0, separator), id: key.toString('utf8', separator + 1) };
}

/** The namespace of a row key without decoding its id (hot path: per-namespace policies). */
export function rowKeyNamespace(key: Buffer): string | undefined {
  const separator = key.indexOf(SEPARATOR);
  return separator <= 0 ? undefined : key.toString('utf8', 0, separator);
}
