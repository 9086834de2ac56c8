import { CachingStore } from '/work/main/src/state/caching-store.js';
import { EmbeddingRowStore, rowKey } from '/work/main/src/state/embedding-row-store.js';
import { openRocksDbStore } from '/work/main/src/state/rocksdb-store.js';
const users = 2_000_000;
const cache = new CachingStore(await openRocksDbStore('/tmp/benchdb'), { maxBytes: 64 << 20 });
const rows = new EmbeddingRowStore(cache, { dim: 32, slotCount: 1, slotInitialValue: 0.1, init: { seed: 20240611 } });
let s = 1; const rnd = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
const cdf = new Float64Array(users); let tot = 0; for (let r = 0; r < users; r++) cdf[r] = tot += 1 / (r + 1);
const next = () => { const t = rnd() * tot; let lo = 0, hi = users - 1; while (lo < hi) { const m = (lo + hi) >>> 1; if (cdf[m] < t) lo = m + 1; else hi = m; } return (lo * 2654435761) % users; };
const times = { get: 0, put: 0, flush: 0, keys: 0 };
let offset = 0;
for (let p = 0; p < 3000; p++) {
  let t = performance.now();
  const keys = []; for (let i = 0; i < 500; i++) keys.push(rowKey('user', `user-${next()}`));
  times.keys += performance.now() - t; t = performance.now();
  const found = await rows.getRows(keys, Date.now());
  times.get += performance.now() - t; t = performance.now();
  for (const r of found) r!.values[0] += 0.001;
  await rows.putRows(new Set(found as never));
  times.put += performance.now() - t; t = performance.now();
  if (p % 20 === 19 || cache.needsFlush()) await cache.flush(offset += 500);
  times.flush += performance.now() - t;
  if (p % 500 === 499) { console.log(p, JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v)]))), cache.cachedBytes); for (const k in times) (times as Record<string, number>)[k] = 0; }
}
await cache.close();
