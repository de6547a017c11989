import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { localTokenAuthenticator } from './auth/local-token.js';
import type { StoreConfig } from './config.js';
import { EventHub } from './events/hub.js';
import { createApp } from './http/app.js';
import { createCursors } from './http/cursor.js';
import { listen } from './http/listen.js';
import type { Services } from './http/services.js';
import type { Logger } from './logger.js';
import { canRead } from './store/access.js';
import { scheduleFeedCompaction } from './store/change-feed.js';
import { startHistoryRetention } from './store/history.js';
import { openLevelStorage } from './store/level-storage.js';
import { Store } from './store/store.js';
import { version } from './version.js';

export interface RunningStore {
  port: number;
  services: Services;
  /** Stops listeners (in-flight requests finish), then closes the store. */
  stop(): Promise<void>;
}

/** Opens the store in `config.dataDir` and serves it on the loopback listener. */
export async function startStore(config: StoreConfig, log: Logger): Promise<RunningStore> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const storage = await openLevelStorage(join(config.dataDir, 'db'), { sync: config.durability === 'machine' });
  let port = 0;
  try {
    const store = await Store.open(storage);
    const events = new EventHub(store, {
      canRead: (user, fileKey) => canRead(storage, user, fileKey),
      maxBufferedBytes: config.events.maxBufferedBytes,
      heartbeatMs: config.events.heartbeatMs,
      log,
    });
    const services: Services = { config, store, cursors: createCursors(await store.secret('cursor')), log, version, port: () => port, events };
    const app = createApp(services, { loopback: true, tls: false, authenticator: localTokenAuthenticator(config.token) });
    const local = await listen(app, config.host, config.port);
    port = local.port;
    const retention = startHistoryRetention(
      store,
      { maxEntries: config.history.maxEntries, maxAgeMs: config.history.maxAgeDays * 24 * 60 * 60 * 1000 },
      { onError: (error) => log.error('history retention failed', { error: String(error) }) },
    );
    const stopFeedCompaction = scheduleFeedCompaction(
      store,
      { maxEntries: config.events.retentionEntries, maxAgeMs: config.events.retentionDays * 24 * 60 * 60 * 1000 },
      config.events.compactEveryMs,
      log,
    );
    log.info('listening', { host: config.host, port, prefix: config.prefix, mode: config.mode });
    let stopping: Promise<void> | undefined;
    return {
      port,
      services,
      stop: () =>
        (stopping ??= (async () => {
          await local.close();
          events.stop();
          await stopFeedCompaction();
          await retention.stop();
          await store.close();
          log.info('stopped');
        })()),
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}
