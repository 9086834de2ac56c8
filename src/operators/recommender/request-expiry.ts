/**
 * Stored request keys by event time (a binary min-heap), so the TTL purge visits only what
 * expired instead of scanning every stored request: on a long run the scan had become ~5 % of
 * the recommender's CPU (bench/README.md), and it grows with the store.
 *
 * The index is complete only once a full scan has listed what the store held before this task
 * started (restored state); until then `complete` is false and the purge scans. A key stored
 * again is listed again; stale entries are harmless because the purge checks each popped key's
 * stored time before deleting. Past `maxEntries` (~100 bytes each) the index gives up and the
 * purge scans, as before: memory stays bounded whatever the TTL and the rate.
 */
export class RequestExpiry {
  private times: number[] = [];
  private keys: Buffer[] = [];
  private listed = false;

  constructor(private readonly maxEntries: number) {}

  /** Whether every stored request is listed (so a purge may pop instead of scanning). */
  get complete(): boolean {
    return this.listed;
  }

  get size(): number {
    return this.times.length;
  }

  /** Lists a request just stored (ignored until the index is complete: the scan will find it). */
  add(time: number, key: Buffer): void {
    if (!this.listed) return;
    if (this.times.length >= this.maxEntries) {
      this.reset();
      return;
    }
    this.push(time, key);
  }

  /** After a full scan: `remaining` is every stored request the scan left in place. */
  rebuild(remaining: readonly { time: number; key: Buffer }[]): void {
    this.times = [];
    this.keys = [];
    if (remaining.length > this.maxEntries) {
      this.listed = false;
      return;
    }
    for (const { time, key } of remaining) this.push(time, key);
    this.listed = true;
  }

  /** Removes and returns the keys listed with a time before `cutoff` (possibly repeated or stale). */
  popBefore(cutoff: number): Buffer[] {
    const due: Buffer[] = [];
    while (this.times.length > 0 && this.times[0] < cutoff) due.push(this.popMin());
    return due;
  }

  /** Forgets everything: the next purge scans. */
  reset(): void {
    this.times = [];
    this.keys = [];
    this.listed = false;
  }

  private push(time: number, key: Buffer): void {
    const { times, keys } = this;
    let at = times.length;
    times.push(time);
    keys.push(key);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (times[parent] <= time) break;
      times[at] = times[parent];
      keys[at] = keys[parent];
      at = parent;
    }
    times[at] = time;
    keys[at] = key;
  }

  private popMin(): Buffer {
    const { times, keys } = this;
    const min = keys[0];
    const lastTime = times.pop()!;
    const lastKey = keys.pop()!;
    const count = times.length;
    if (count === 0) return min;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= count) break;
      if (child + 1 < count && times[child + 1] < times[child]) child++;
      if (times[child] >= lastTime) break;
      times[at] = times[child];
      keys[at] = keys[child];
      at = child;
    }
    times[at] = lastTime;
    keys[at] = lastKey;
    return min;
  }
}
