import type { StepContext } from './types.js';

/**
 * A typed key into a task's scope. Steps that cooperate (the lookup, score and learn steps of one
 * model) ask their task for the same key and get the same value, created once per task by the
 * first step that asks; keys compare by identity, so two modules can never collide on a name.
 */
export interface ScopeKey<T> {
  /** For messages and debugging only. */
  readonly name: string;
  readonly create: (ctx: StepContext) => T;
}

export function scopeKey<T>(name: string, create: (ctx: StepContext) => T): ScopeKey<T> {
  return Object.freeze({ name, create });
}

/** One task's scoped values; the runtime and the test harnesses hold one per task. */
export class TaskScope {
  private readonly values = new Map<ScopeKey<unknown>, unknown>();

  get<T>(key: ScopeKey<T>, ctx: StepContext): T {
    if (this.values.has(key)) return this.values.get(key) as T;
    const value = key.create(ctx);
    this.values.set(key, value);
    return value;
  }
}
