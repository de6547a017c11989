/**
 * `tsx test/bench/seed-store.ts <dataDir> <count>`: a store in `dataDir` holding `count` files,
 * written through the store layer, compacted and closed again, for the start bench.
 */
import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import { join } from 'node:path';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { Store } from '../../backend/src/store/store.js';
import { seedFiles } from './seed-files.js';

const [dataDir, count] = process.argv.slice(2);
await mkdir(dataDir, { recursive: true, mode: 0o700 });
const store = await Store.open(await openLevelStorage(join(dataDir, 'db'), { sync: false }));
await seedFiles(store, Number(count));
await store.close();
// A store in use for a while has its tables compacted. What a seed writes in one go LevelDB would
// otherwise compact over the next starts (seconds of CPU and ~50 MB more RSS in each of the first),
// which is the seed's cost, not the start's. Every key of the store is in `![section]!…`.
const db = new ClassicLevel(join(dataDir, 'db'));
await db.compactRange('!', '"');
await db.close();
