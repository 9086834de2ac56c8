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
    if (!byValue) this.singles.set(name, (byValue = new Map<string, string>()));
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
    if (!byA) this.crosses.set(pair, (byA = new Map<string, Map<string, string>>()));
    let byB = byA.get(aValue);
    if (!byB) {
      if (byA.size >= MAX_VALUES_PER_LEVEL) byA.clear();
      byA.set(aValue, (byB = new Map<string, string>()));
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

/**
 * The field a feature key belongs to, which DCN gives a slot of its own when configured: the name
 * before '=' (`tool=git` → `tool`, `prev_action=search` → `prev_action`, `attr.team=a` →
 * `attr.team`), both names for a cross (`tool=git×domain=web` → `tool×domain`), the part before
 * '#' for a hashed n-gram (`text.text#1043` → `text.text`), else the whole key.
 */
export function featureField(key: string): string {
  const equals = key.indexOf('=');
  if (equals < 0) {
    const hash = key.indexOf('#');
    return hash < 0 ? key : key.slice(0, hash);
  }
  const name = key.slice(0, equals);
  // A cross reads `${a}=${aValue}×${b}=${bValue}`: the last '×' before the second '=' ends aValue.
  const second = key.indexOf('=', equals + 1);
  if (second < 0) return name;
  const times = key.lastIndexOf('×', second);
  return times > equals ? `${name}×${key.slice(times + 1, second)}` : name;
}
