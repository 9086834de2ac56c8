/** Turns a value into bytes and back. Serdes throw BadRecordError with the failing field. */
export interface Serde<T> {
  readonly name: string;
  serialize(value: T): Buffer;
  deserialize(bytes: Buffer): T;
}
