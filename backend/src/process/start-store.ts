import type { StoreConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { RunningStore, StoreOptions } from '../server.js';
import { openStorage } from '../store/open-data-dir.js';
import { saveStartupCode } from './code-cache.js';
import { limitHeapGrowth } from './heap-growth.js';

/**
 * Starts the store as the entries (`--server`, the forked child) do: the storage opens, on
 * LevelDB's own threads, while the server's code loads. The entries import `server.js` only
 * here, or pass the import they began earlier; it is most of what a start loads.
 */
export async function startStoreWhileLoading(
  config: StoreConfig,
  log: Logger,
  options: Omit<StoreOptions, 'storage'> = {},
  server: Promise<typeof import('../server.js')> = import('../server.js'),
): Promise<RunningStore> {
  const storage = openStorage(config);
  // startStore awaits it and reports its failure; until then it must not count as unhandled.
  storage.catch(() => {});
  const { startStore } = await server;
  const running = await startStore(config, log, { ...options, storage });
  saveStartupCode(log);
  limitHeapGrowth();
  return running;
}
