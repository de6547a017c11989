/**
 * api-store for the files bench, in its own process on a temp data dir removed at exit. Asked
 * `{type: 'seed', count}`, it creates a space holding `count` projects through the store layer
 * (big batches, no HTTP) and answers `{type: 'seeded', space, sample, ms}`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { configSchema } from '../../backend/src/config.js';
import { createLogger } from '../../backend/src/logger.js';
import { startStoreWhileLoading } from '../../backend/src/process/start-store.js';
import { seedFiles } from './seed-files.js';

const dataDir = await mkdtemp(join(tmpdir(), 'api-store-bench-files-'));
const token = createLaunchToken();
const config = configSchema.parse({ dataDir, token, logLevel: 'silent' });
const running = await startStoreWhileLoading(config, createLogger('silent'));
const { store } = running.services;

process.on('message', async (message: { type: 'seed'; count: number }) => {
  const started = performance.now();
  const seeded = await seedFiles(store, message.count);
  process.send?.({ type: 'seeded', ...seeded, ms: performance.now() - started });
});
process.send?.({ port: running.port, token, baseUrl: `http://127.0.0.1:${running.port}${config.prefix}` });
process.on('SIGTERM', async () => {
  await running.stop();
  await rm(dataDir, { recursive: true, force: true });
  process.exit(0);
});
