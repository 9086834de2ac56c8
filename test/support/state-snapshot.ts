import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openRocksDbStore } from '../../src/state/rocksdb-store.js';

/** One RocksDB store's full content: every entry (key hex → value) and its applied offset. */
export interface StoreSnapshot {
  appliedOffset: number;
  entries: Map<string, Buffer>;
}

/**
 * Reads every store under a runner's state root (`<root>/<topology>/<store>/<partition>`)
 * read-only, keyed by the path below the root. The processes that wrote them must have exited
 * (or flushed): a read-only open sees what was on disk when it opened.
 */
export async function snapshotStateDir(root: string): Promise<Map<string, StoreSnapshot>> {
  const snapshots = new Map<string, StoreSnapshot>();
  for (const topology of await readdir(root)) {
    for (const store of await readdir(join(root, topology))) {
      for (const partition of await readdir(join(root, topology, store))) {
        // Keyed without the application (group) directory, so runs under different group ids compare.
        const name = `${store}/${partition}`;
        const db = await openRocksDbStore(join(root, topology, store, partition), { readOnly: true });
        try {
          const entries = new Map<string, Buffer>();
          for await (const [key, value] of db.range()) entries.set(key.toString('hex'), value);
          snapshots.set(name, { appliedOffset: await db.appliedOffset(), entries });
        } finally {
          await db.close();
        }
      }
    }
  }
  return snapshots;
}

/** Human-readable differences between two snapshots (empty when byte-identical), at most `limit`. */
export function diffSnapshots(expected: Map<string, StoreSnapshot>, actual: Map<string, StoreSnapshot>, limit = 10): string[] {
  const differences: string[] = [];
  const note = (line: string) => differences.length < limit && differences.push(line);
  for (const name of new Set([...expected.keys(), ...actual.keys()])) {
    const a = expected.get(name);
    const b = actual.get(name);
    if (!a || !b) {
      note(`${name}: only in ${a ? 'expected' : 'actual'}`);
      continue;
    }
    if (a.appliedOffset !== b.appliedOffset) note(`${name}: applied offset ${b.appliedOffset}, expected ${a.appliedOffset}`);
    let differing = 0;
    let example = '';
    for (const key of new Set([...a.entries.keys(), ...b.entries.keys()])) {
      const x = a.entries.get(key);
      const y = b.entries.get(key);
      if (x && y && x.equals(y)) continue;
      differing++;
      example ||= `${Buffer.from(key, 'hex')
        .toString('latin1')
        .replace(/[^\x20-\x7e]/g, '.')} (${x ? `${x.length} B` : 'missing'} expected, ${y ? `${y.length} B` : 'missing'} actual)`;
    }
    if (differing) note(`${name}: ${differing} of ${a.entries.size} entries differ, e.g. ${example}`);
  }
  return differences;
}

/** Total entries over all stores of a snapshot. */
export function entryCount(snapshot: Map<string, StoreSnapshot>): number {
  return [...snapshot.values()].reduce((sum, s) => sum + s.entries.size, 0);
}
