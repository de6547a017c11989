/**
 * `api-store/host`: runs the store inside any Electron app's main process. The app passes in the
 * Electron objects it uses (nothing here imports electron), gets back the supervised store, the
 * IPC handler behind `window.apiStore`, the store's menu items for its own tray or menu, and the
 * quit handshake for its `before-quit`.
 */
import { join } from 'node:path';
import type { App, Clipboard, Dialog, IpcMain, MenuItemConstructorOptions, Shell } from 'electron';
import { loadDesktopKeys, saveDesktopKeys, type KeyStorage } from './data-key.js';
import { createLaunchToken } from '../backend/src/auth/local-token.js';
import { ensureDataDir } from '../backend/src/data-dir.js';
import type { StoreConnection } from '../preload/api.js';
import { backendLogDefaults, desktopLogLevel, rotatingLog } from './backend-log.js';
import { backendEntry } from './backend-entry.js';
import { backUpFromMenu, showBackupsFromMenu } from './backups.js';
import { storeConnection } from './connection.js';
import { inviteTeammate } from './invite.js';
import { connectionBroadcaster, handleConnectionRequests, type PageContents } from './ipc.js';
import { lanChoiceKeeper, loadLanChoice } from './lan-choice.js';
import { quitHandshake } from './lifecycle.js';
import { Supervisor, type SupervisorState } from './supervisor.js';
import { storeMenuItems } from './tray-menu.js';
import { utilityProcessForker, type UtilityFork } from './utility-backend.js';

export type { LanStatus, StoreConnection } from '../preload/api.js';
export type { LanChoice, StopResult, StoreStatus, Supervisor, SupervisorState } from './supervisor.js';
export { statusLine } from './tray-menu.js';

/** The parts of Electron's main-process API the store uses; pass Electron's own objects. */
export interface HostElectron {
  app: Pick<App, 'getPath' | 'quit'>;
  utilityProcess: { fork: UtilityFork };
  ipcMain: Pick<IpcMain, 'handle'>;
  /** Electron's `webContents` module: connection changes go to every page of `allowedOrigins`. */
  webContents: { getAllWebContents(): PageContents[] };
  clipboard: Pick<Clipboard, 'writeText'>;
  shell: Pick<Shell, 'openPath'>;
  dialog: Pick<Dialog, 'showMessageBox' | 'showErrorBox'>;
  /** Keeps the data key that seals secrets at rest in the OS keychain. */
  safeStorage: KeyStorage;
}

export interface StoreHostOptions {
  /** Origins (`scheme://host`) of the host's own pages: only they get the connection, and the store's CORS allows only them. */
  allowedOrigins: readonly string[];
  /** The store's data folder; `<userData>/api-store` by default. */
  dataDir?: string;
  /** The REST prefix; `/v1` by default. */
  prefix?: string;
  /** Where the backend's warnings and errors go; by default `<userData>/logs/backend.log`, 0600, rotated. */
  log?: NodeJS.WritableStream;
  /** The LAN listener's address and mDNS announcement; all interfaces, a free port, announced by default. */
  lan?: { host?: string; port?: number; discovery?: boolean };
}

export interface StoreHost {
  /** Start, stop, state, `onChange`, `setLan`. Call `supervisor.start()` once the host is ready. */
  readonly supervisor: Supervisor;
  readonly dataDir: string;
  /** What `window.apiStore.getConnection()` answers now: `null` while the store is not running. */
  connection(): StoreConnection | null;
  /**
   * What the user must be told, for the host's tray: the data key is not protected by a keyring,
   * or (while running) it does not open the store's secrets.
   */
  warnings(): string[];
  /** The store's items for the current state, to merge into the host's tray or menu (api-store makes no Tray). Rebuild them on `supervisor.onChange`. */
  menuItems(): MenuItemConstructorOptions[];
  /** For the host's `app.on('before-quit', …)`: holds the first quit until the store has stopped. */
  beforeQuit(event: { preventDefault(): void }): void;
}

/**
 * Sets the store up in the host: data folder (0700), LAN choice of the last run, supervisor,
 * `store:get-connection` handler (answering only `allowedOrigins`) and connection broadcasts.
 * Call after `app` is ready (utility processes cannot be forked before).
 */
export async function createStoreHost(electron: HostElectron, options: StoreHostOptions): Promise<StoreHost> {
  const { app, utilityProcess, ipcMain, webContents, clipboard, shell, dialog, safeStorage } = electron;
  const origins = [...options.allowedOrigins];
  const dataDir = await ensureDataDir(options.dataDir ?? join(app.getPath('userData'), 'api-store'));
  const endpoint = { host: '127.0.0.1', prefix: options.prefix ?? '/v1', token: createLaunchToken() };
  // Inside userData on every platform (macOS would put logs in ~/Library/Logs), private, rotated.
  const log = options.log ?? rotatingLog({ dir: join(app.getPath('userData'), 'logs'), ...backendLogDefaults });
  const lanChoice = lanChoiceKeeper(dataDir, (error) => log.write(`api-store: the LAN choice could not be kept: ${error.message}\n`));

  const userData = app.getPath('userData');
  const { keys, warning } = await loadDesktopKeys(safeStorage, userData);
  const keyWarnings = warning ? [warning] : [];
  if (warning) log.write(`api-store: warning: ${warning}\n`);

  const supervisor = new Supervisor({
    fork: utilityProcessForker(utilityProcess.fork, backendEntry, log, process.env),
    keys,
    saveKeys: (ring) => saveDesktopKeys(safeStorage, userData, ring),
    config: { ...endpoint, dataDir, port: 0, allowedOrigins: origins, logLevel: desktopLogLevel, lan: options.lan },
    lan: await loadLanChoice(dataDir),
    onLanChoice: lanChoice.keep,
  });
  const connection = () => storeConnection(supervisor.state, endpoint);
  handleConnectionRequests(ipcMain, connection, origins);
  const broadcast = connectionBroadcaster(() => webContents.getAllWebContents(), origins);
  supervisor.onChange(() => broadcast(connection()));

  return {
    supervisor,
    dataDir,
    connection,
    warnings: () => [...keyWarnings, ...(supervisor.state.warnings ?? [])],
    menuItems: () =>
      storeMenuItems(supervisor.state, {
        setLan: (enabled) => supervisor.setLan(enabled),
        copyLanAddress: () => clipboard.writeText(supervisor.state.lan.url ?? ''),
        inviteTeammate: () => void inviteTeammate(connection(), dialog, clipboard),
        openDataFolder: () => void shell.openPath(dataDir),
        backUpNow: () => void backUpFromMenu(connection(), dialog),
        showBackups: () => void showBackupsFromMenu(dataDir, shell, dialog),
        restartStore: () => supervisor.start(),
      }, keyWarnings),
    // The last LAN choice reaches the disk before the app is gone.
    beforeQuit: quitHandshake(app, { stop: () => supervisor.stop().finally(lanChoice.written) }),
  };
}
