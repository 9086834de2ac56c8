import type { KeyValueStore } from '../../state/store.js';

/**
 * Deletes a keyed store's entries idle past a TTL (event time). It runs at fixed event-time
 * boundaries (multiples of TTL/4) with the boundary as the cutoff: an entry idle that long already
 * reads as absent for every later event, so when the sweep runs (batch boundaries, a restart)
 * changes no bytes that matter. One per task and store.
 */
export class IdleSweep {
  private readonly every: number;
  private lastSweep = -Infinity;

  constructor(
    private readonly ttlMs: number,
    /** An entry's last event time, read from its stored bytes. */
    private readonly lastTimeOf: (value: Buffer) => number,
  ) {
    this.every = ttlMs / 4;
  }

  /** After a batch whose latest event time is `latest`: sweeps when a boundary was crossed; returns how many entries went. */
  async afterBatch(store: KeyValueStore, latest: number): Promise<number> {
    if (!Number.isFinite(latest)) return 0;
    const boundary = Math.floor(latest / this.every) * this.every;
    if (boundary <= this.lastSweep) return 0;
    this.lastSweep = boundary;
    const cutoff = boundary - this.ttlMs;
    // Deleting after the scan keeps it independent of write buffering.
    const doomed: Buffer[] = [];
    for await (const [key, value] of store.range()) if (this.lastTimeOf(value) < cutoff) doomed.push(key);
    for (const key of doomed) await store.delete(key);
    return doomed.length;
  }
}
