// Native-memory comparison of the two RocksDB bindings on the same workload: preload N rows of
// 280 B, then skewed getMany + batch-put polls of 500; RSS after a full GC. Not part of the
// project's dependencies: run it in a scratch folder with both installed:
//   npm install rocksdb@5.2.1 @nxtedition/rocksdb@12.2.12
//   node --expose-gc rocksdb-bindings.mjs rocksdb 2000000
//   node --expose-gc rocksdb-bindings.mjs nx 2000000 [cif]   # cif = cacheIndexAndFilterBlocks
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
const require = createRequire(import.meta.url);
const which = process.argv[2];
const N = Number(process.argv[3] ?? 2_000_000);
const POLLS = 2000;
const dir = mkdtempSync('/tmp/nxexp/db-');
const key = (i) => Buffer.from(`user\u0000u${i}`);
const value = Buffer.alloc(280, 7);
let db;
if (which === 'nx') {
  const { RocksLevel } = require('@nxtedition/rocksdb');
  db = new RocksLevel(dir, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    cacheSize: 8 << 20,
    writeBufferSize: 4 << 20,
    cacheIndexAndFilterBlocks: process.argv[4] === 'cif',
  });
  await db.open();
  db.$getMany = (keys) => db.getMany(keys);
  db.$batch = (ops) => db.batch(ops);
} else {
  const r = require('rocksdb')(dir);
  await new Promise((res, rej) => r.open({ cacheSize: 8 << 20, writeBufferSize: 4 << 20 }, (e) => (e ? rej(e) : res())));
  db = r;
  db.$getMany = (keys) => new Promise((res, rej) => r.getMany(keys, {}, (e, v) => (e ? rej(e) : res(v))));
  db.$batch = (ops) => new Promise((res, rej) => r.batch(ops, {}, (e) => (e ? rej(e) : res())));
}
for (let i = 0; i < N; i += 20000) {
  const ops = [];
  for (let j = i; j < Math.min(N, i + 20000); j++) ops.push({ type: 'put', key: key(j), value });
  await db.$batch(ops);
}
global.gc();
const rssAfterLoad = process.memoryUsage().rss;
let s = 1;
const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const t0 = performance.now();
for (let p = 0; p < POLLS; p++) {
  const keys = [];
  for (let j = 0; j < 500; j++) keys.push(key(Math.floor(N * Math.pow(rnd(), 3))));
  await db.$getMany(keys);
  await db.$batch(keys.map((k) => ({ type: 'put', key: k, value })));
}
const secs = (performance.now() - t0) / 1000;
global.gc();
const m = process.memoryUsage();
console.log(
  JSON.stringify({
    which: which + (process.argv[4] ?? ''),
    rowsPerSec: Math.round((POLLS * 500) / secs),
    rssAfterLoadMiB: (rssAfterLoad / 2 ** 20).toFixed(0),
    rssMiB: (m.rss / 2 ** 20).toFixed(0),
    heapMiB: (m.heapTotal / 2 ** 20).toFixed(0),
  }),
);
process.exit(0);
