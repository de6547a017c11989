import { LOCAL_OWNER } from '../../backend/src/auth/caller.js';
import { SPACE_KIND } from '../../backend/src/store/file-records.js';
import { placementIn, rootPlacement } from '../../backend/src/store/file-search.js';
import { stageNewFile } from '../../backend/src/store/files.js';
import type { Store } from '../../backend/src/store/store.js';
import { benchProject } from './suites/files.js';

const SEED_BATCH = 5_000;

/** Creates a space holding `count` projects through the store layer (big batches, no HTTP). */
export async function seedFiles(store: Store, count: number): Promise<{ space: string; sample: string }> {
  const space = await store.mutate((m) => stageNewFile(m, { input: { kind: SPACE_KIND, info: { name: `${count} files` } }, owner: LOCAL_OWNER, placement: rootPlacement }));
  const placement = placementIn(space, rootPlacement);
  let sample = '';
  for (let done = 0; done < count; done += SEED_BATCH) {
    const size = Math.min(SEED_BATCH, count - done);
    await store.mutate((m) => {
      for (let i = 0; i < size; i++) sample = stageNewFile(m, { input: benchProject(done + i), owner: LOCAL_OWNER, placement }).key;
    });
  }
  return { space: space.key, sample };
}
