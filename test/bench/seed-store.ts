/**
 * `tsx test/bench/seed-store.ts <dataDir> <count>`: a store in `dataDir` holding `count` files,
 * written through the store layer and closed again, for the start bench.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { Store } from '../../backend/src/store/store.js';
import { seedFiles } from './seed-files.js';

const [dataDir, count] = process.argv.slice(2);
await mkdir(dataDir, { recursive: true, mode: 0o700 });
const store = await Store.open(await openLevelStorage(join(dataDir, 'db'), { sync: false }));
await seedFiles(store, Number(count));
await store.close();
