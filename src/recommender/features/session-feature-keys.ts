import type { SparseFeature } from './text-encoder.js';
import { TURN_BUCKETS } from './session-state.js';

/**
 * Distinct keys interned per kind before it starts over (tool vocabularies are far smaller; the
 * action pairs of `prev2` are not, and at 20,000 they filled for minutes: bench/README.md, "Soak: key caches").
 */
export const MAX_INTERNED = 5_000;

/**
 * Feature objects built once per distinct value and handed out again (weight 1): the row lookup
 * downstream keys on the string, and a string built afresh per request costs a concatenation and
 * a hash every time. One per task, bounded.
 */
export class SessionFeatureKeys {
  readonly turn: readonly SparseFeature[] = TURN_BUCKETS.map((b) => ({ key: `turn=${b}`, weight: 1 }));
  readonly ok: SparseFeature = { key: 'last_outcome=ok', weight: 1 };
  private readonly previous = new Map<string, SparseFeature>();
  private readonly pairs = new Map<string, Map<string, SparseFeature>>();
  private pairCount = 0;
  private readonly errors = new Map<string, SparseFeature>();
  private readonly previousOk = new Map<string, SparseFeature>();
  private readonly previousFailed = new Map<string, SparseFeature>();

  /** Distinct features held now, over every kind. */
  get size(): number {
    return this.previous.size + this.pairCount + this.errors.size + this.previousOk.size + this.previousFailed.size;
  }

  previousAction(action: string): SparseFeature {
    return intern(this.previous, action, () => `prev_action=${action}`);
  }

  previousTwo(older: string, latest: string): SparseFeature {
    let byLatest = this.pairs.get(older);
    const known = byLatest?.get(latest);
    if (known) return known;
    // The bound is on pairs, not per map: a vocabulary of n actions has n² of them.
    if (this.pairCount >= MAX_INTERNED) {
      this.pairs.clear();
      this.pairCount = 0;
      byLatest = undefined;
    }
    if (!byLatest) this.pairs.set(older, (byLatest = new Map<string, SparseFeature>()));
    const feature = { key: `prev2=${older}|${latest}`, weight: 1 };
    byLatest.set(latest, feature);
    this.pairCount++;
    return feature;
  }

  previousOutcome(action: string, ok: boolean): SparseFeature {
    return intern(ok ? this.previousOk : this.previousFailed, action, () => `prev_outcome=${action}|${ok ? 'ok' : 'error'}`);
  }

  error(type: string): SparseFeature {
    return intern(this.errors, type, () => `last_outcome=error:${type}`);
  }
}

function intern(map: Map<string, SparseFeature>, value: string, key: () => string): SparseFeature {
  let feature = map.get(value);
  if (feature === undefined) {
    if (map.size >= MAX_INTERNED) map.clear();
    feature = { key: key(), weight: 1 };
    map.set(value, feature);
  }
  return feature;
}
