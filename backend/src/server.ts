import { openAccounts, sessionAuthenticator } from './auth/accounts.js';
import { localTokenAuthenticator } from './auth/local-token.js';
import type { Authenticator } from './auth/caller.js';
import { backupsDirOf, startBackups, takeSnapshot, type Backups } from './backup/snapshots.js';
import type { StoreConfig } from './config.js';
import { EventHub } from './events/hub.js';
import { createApp, type ListenerOptions } from './http/app.js';
import { createCursors } from './http/cursor.js';
import { listen, type Listening } from './http/listen.js';
import type { Services } from './http/services.js';
import { bonjourResponder, silentResponder, type MdnsResponder } from './lan/mdns.js';
import { createLanSharing, type LanSharing } from './lan/sharing.js';
import { listenTls, loadCertificate } from './lan/tls.js';
import type { Logger } from './logger.js';
import { canRead } from './store/access.js';
import { scheduleFeedCompaction } from './store/change-feed.js';
import { startHistoryRetention } from './store/history.js';
import { openStorage } from './store/open-data-dir.js';
import type { Migration } from './store/migrations.js';
import type { Storage } from './store/storage.js';
import { Store, type Clock } from './store/store.js';
import { dataDirKeySource, type KeySource } from './secrets/key-source.js';
import { openSecrets } from './secrets/secrets.js';
import { KeyRotation } from './secrets/rotation.js';
import { version } from './version.js';

export interface RunningStore {
  port: number;
  services: Services;
  /** The runtime LAN sharing switch (the `lan` message). */
  lan: LanSharing;
  /** What the operator must hear at start (a missing or wrong data key), each naming what to do. */
  warnings: string[];
  /** Stops listeners (in-flight requests finish), then closes the store. */
  stop(): Promise<void>;
}

export interface StoreOptions {
  /** Time of sessions, invites and attempt windows; tests move it. */
  clock?: Clock;
  /** Announces LAN sharing over mDNS; bonjour-service unless a test injects a recorder. */
  mdns?: MdnsResponder;
  /**
   * Extra credentials on the main listener, tried before the mode's own: lets tests act as
   * several users over real HTTP without accounts. Never set by the CLI or the desktop app.
   */
  authenticator?: Authenticator;
  /** The schema migrations; the store's own list unless a test brings one more. */
  migrations?: Migration[];
  /** The data key's source: the parent's key ring (desktop app); the config's key file otherwise. */
  keySource?: KeySource;
  /**
   * The storage, when the caller began opening it (`openStorage(config)`) before loading this
   * module: LevelDB then opens on its own threads while the server's code loads.
   */
  storage?: Promise<Storage>;
}

/**
 * The main listener: in local and server modes loopback with the launch token; in headless
 * multi-user mode sessions (admins included) over TLS, or plain HTTP with `--insecure-http`.
 */
function mainListener(services: Services): ListenerOptions {
  const { config, accounts, store } = services;
  if (config.mode !== 'multi-user') return { loopback: true, tls: false, authenticator: localTokenAuthenticator(config.token) };
  return { loopback: false, tls: !config.insecureHttp, authenticator: sessionAuthenticator(accounts, store, { adminAllowed: true }) };
}

async function listenMain(app: ReturnType<typeof createApp>, config: StoreConfig): Promise<Listening> {
  if (config.mode !== 'multi-user' || config.insecureHttp) return listen(app, config.host, config.port);
  return listenTls(app, config.host, config.port, await loadCertificate(config.dataDir));
}

/** Opens the store in `config.dataDir` and serves it on the main listener; LAN sharing starts off. */
export async function startStore(config: StoreConfig, log: Logger, options: StoreOptions = {}): Promise<RunningStore> {
  const storage = await (options.storage ?? openStorage(config));
  let port = 0;
  // Stopped here when the start fails after its timer started.
  let startedBackups: Backups | undefined;
  try {
    const clock = options.clock ?? Date.now;
    // An upgrade that goes wrong can be undone: the store as it was is backed up before migrating.
    const store = await Store.open(storage, clock, {
      migrations: options.migrations,
      beforeMigration: async (from, to) => {
        const snapshot = await takeSnapshot(storage, backupsDirOf(config.dataDir), `before-schema-${to}`, clock());
        log.info('backup taken before migrating', { from, to, name: snapshot.name });
      },
    });
    store.secrets = await openSecrets(store, options.keySource ?? dataDirKeySource(config.dataDir, config.secrets));
    const warnings: string[] = [];
    if (store.secrets.problem) {
      warnings.push(`Secrets are locked: ${store.secrets.problem}`);
      log.error('secrets are locked; everything else is served', { reason: store.secrets.problem });
    }
    const backups = (startedBackups = startBackups(storage, { dataDir: config.dataDir, keep: config.backups.keep, checkEveryMs: config.backups.checkEveryMs, clock, log }));
    const accounts = await openAccounts(config, store);
    const events = new EventHub(store, {
      canRead: (user, fileKey) => canRead(storage, user, fileKey),
      maxBufferedBytes: config.events.maxBufferedBytes,
      heartbeatMs: config.events.heartbeatMs,
      maxSocketsPerUser: config.events.maxSocketsPerUser,
      maxSockets: config.events.maxSockets,
      maxReplayEntries: config.events.maxReplayEntries,
      maxQueuedChanges: config.events.maxQueuedChanges,
      log,
    });
    const rotation = new KeyRotation(store, { batchSize: config.secrets.rotationBatchSize, pauseMs: config.secrets.rotationPauseMs, log });
    const services: Services = { config, store, cursors: createCursors(await store.secret('cursor'), config.limits.pageBytes), log, version, port: () => port, accounts, events, backups, rotation };
    const main = mainListener(services);
    const extra = options.authenticator;
    const app = createApp(services, extra ? { ...main, authenticator: async (credential) => (await extra(credential)) ?? main.authenticator(credential) } : main);
    const local = await listenMain(app, config);
    port = local.port;
    const discoveryFailed = (error: Error) => log.warn('mDNS announcement failed', { error: String(error) });
    const responder = options.mdns ?? (config.lan.discovery ? bonjourResponder(discoveryFailed) : silentResponder);
    // Teammates on the LAN listener get multi-user rules and sessions without admin rights.
    const lan = createLanSharing({
      createApp: (lanHost, lanPort) =>
        createApp(
          { ...services, config: { ...config, mode: 'multi-user', host: lanHost }, port: lanPort },
          { loopback: false, tls: !config.insecureHttp, authenticator: sessionAuthenticator(accounts, store, { adminAllowed: false }) },
        ),
      dataDir: config.dataDir,
      prefix: config.prefix,
      insecureHttp: config.insecureHttp,
      responder,
      log,
    });
    const retention = startHistoryRetention(
      store,
      { maxEntriesPerUser: config.history.maxEntriesPerUser, maxAgeMs: config.history.maxAgeDays * 24 * 60 * 60 * 1000 },
      { onError: (error) => log.error('history retention failed', { error: String(error) }), firstRunDelayMs: config.maintenance.firstRunDelayMs },
    );
    const stopFeedCompaction = scheduleFeedCompaction(
      store,
      { maxEntries: config.events.retentionEntries, maxAgeMs: config.events.retentionDays * 24 * 60 * 60 * 1000 },
      { everyMs: config.events.compactEveryMs, firstRunDelayMs: config.maintenance.firstRunDelayMs },
      log,
    );
    // A rotation a crash interrupted (the key source still holds the previous key) is finished.
    if (rotation.unfinished) rotation.start();
    log.info('listening', { host: config.host, port, prefix: config.prefix, mode: config.mode, storage: storage.kind });
    let stopping: Promise<void> | undefined;
    return {
      port,
      services,
      warnings,
      lan,
      stop: () =>
        (stopping ??= (async () => {
          await lan.disable();
          await responder.close();
          await local.close();
          events.stop();
          await stopFeedCompaction();
          await retention.stop();
          await backups.stop();
          await rotation.stop();
          await store.close();
          log.info('stopped');
          await log.flush();
        })()),
    };
  } catch (error) {
    await startedBackups?.stop();
    await storage.close();
    throw error;
  }
}
