/**
 * Test-only: opens the RocksDB store in the directory given as the only argument (taking its
 * LOCK), prints `holding`, and keeps it open until killed: "another instance holds this state".
 * Run it as `node --import tsx test/support/hold-rocksdb.ts <dir>`.
 */
import { mkdir } from 'node:fs/promises';
import { openRocksDbStore } from '../../src/state/rocksdb-store.js';

const directory = process.argv[2];
await mkdir(directory, { recursive: true });
await openRocksDbStore(directory);
process.stdout.write('holding\n');
setInterval(() => undefined, 60_000);
