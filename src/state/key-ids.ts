/**
 * Map ids (latin1 strings) of key Buffers, built once per key object. Stores index their maps by
 * these strings; hot keys arrive as the same Buffer objects batch after batch (callers cache
 * them), so building and hashing a fresh string on every access would be wasted work on the
 * hot path (see bench/README.md, "Recommender end to end"). Keys are never mutated after use.
 */
export class KeyIds {
  private readonly ids = new WeakMap<Buffer, string>();

  /**
   * The id, remembered only if this key object was seen before: for writes, whose keys are
   * often one-off objects (a request id per scored request), where remembering cost a WeakMap
   * insertion per write and weak-table work in every GC, for a key never seen again.
   */
  peek(key: Buffer): string {
    return this.ids.get(key) ?? key.toString('latin1');
  }

  of(key: Buffer): string {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = key.toString('latin1');
      this.ids.set(key, id);
    }
    return id;
  }
}
