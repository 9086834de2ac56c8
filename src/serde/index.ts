export { avroSerde, type AvroSerde, type AvroSerdeOptions, type HandWrittenBody } from './avro-serde.js';
export { bytesSerde } from './bytes-serde.js';
export { jsonSerde } from './json-serde.js';
export { canonicalSchema, parsingCanonicalForm, type CanonicalSchema } from './parsing-canonical-form.js';
export { rabinFingerprint64, toSignedFingerprint } from './rabin-fingerprint.js';
export type { Serde } from './serde.js';
export type { AvroBinaryWriter } from './avro-binary-writer.js';
export { SchemaRegistry, type RegisteredSchema, type SchemaSource } from './schema-registry.js';
export {
  SINGLE_OBJECT_HEADER_LENGTH,
  SINGLE_OBJECT_MARKER,
  assertSingleObjectHeader,
  singleObjectHeader,
  writerFingerprint,
} from './single-object-encoding.js';
export { stringSerde } from './string-serde.js';
