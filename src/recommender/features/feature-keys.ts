/** Bound on the distinct values remembered per field or cross before that level starts over. */
const MAX_VALUES_PER_LEVEL = 50_000;

/**
 * Exact-key feature strings (`tool=git`, `tool=git×domain=web`) built once per distinct value and
 * handed out as the same string object every time. The row lookup downstream finds rows by these
 * strings, and V8 keeps a string's hash in the string: a key built afresh per event cost a
 * concatenation, a flatten and a full hash on every lookup. One per task (not shared), bounded.
 */
export class FeatureKeys {
  private readonly singles = new Map<string, Map<string, string>>();
  private readonly crosses = new Map<string, Map<string, Map<string, string>>>();

  /** `${name}=${value}`. */
  single(name: string, value: string): string {
    let byValue = this.singles.get(name);
    if (!byValue) this.singles.set(name, (byValue = new Map()));
    let key = byValue.get(value);
    if (key === undefined) {
      if (byValue.size >= MAX_VALUES_PER_LEVEL) byValue.clear();
      key = `${name}=${value}`;
      byValue.set(value, key);
    }
    return key;
  }

  /** `${a}=${aValue}×${b}=${bValue}`; `pair` names the cross (one string per configured pair). */
  cross(pair: string, a: string, aValue: string, b: string, bValue: string): string {
    let byA = this.crosses.get(pair);
    if (!byA) this.crosses.set(pair, (byA = new Map()));
    let byB = byA.get(aValue);
    if (!byB) {
      if (byA.size >= MAX_VALUES_PER_LEVEL) byA.clear();
      byA.set(aValue, (byB = new Map()));
    }
    let key = byB.get(bValue);
    if (key === undefined) {
      if (byB.size >= MAX_VALUES_PER_LEVEL) byB.clear();
      key = `${a}=${aValue}×${b}=${bValue}`;
      byB.set(bValue, key);
    }
    return key;
  }
}
