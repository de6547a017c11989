/**
 * api-store in a bench process, on a temp data dir removed at exit; argv[2] may name an existing
 * data dir ('' for a new one), argv[3] a PostgreSQL URL to keep the records in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { configSchema } from '../../backend/src/config.js';
import { createLogger } from '../../backend/src/logger.js';
import { startStoreWhileLoading } from '../../backend/src/process/start-store.js';

const given = process.argv[2] || undefined;
const storage = process.argv[3];
const dataDir = given ?? (await mkdtemp(join(tmpdir(), 'api-store-bench-')));
const token = createLaunchToken();
// The events suite opens 100 sockets with one token: more than a user's default cap.
const config = configSchema.parse({ dataDir, token, logLevel: 'silent', events: { maxSocketsPerUser: 1000 }, storage });
const running = await startStoreWhileLoading(config, createLogger('silent'));
process.send?.({ port: running.port, token, dataDir, baseUrl: `http://127.0.0.1:${running.port}${config.prefix}` });
process.on('SIGTERM', async () => {
  await running.stop();
  if (!given) await rm(dataDir, { recursive: true, force: true });
  process.exit(0);
});
