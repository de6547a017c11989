/**
 * Electron main entry: wires the real Electron objects into the parts in this folder, which
 * take them as parameters (and are tested without Electron).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, clipboard, dialog, ipcMain, Menu, nativeImage, protocol, session, shell, Tray, utilityProcess } from 'electron';
import { createLaunchToken } from '../backend/src/auth/local-token.js';
import type { StoreConnection } from '../preload/api.js';
import { appScheme, rendererUrl, serveAppFile } from './app-protocol.js';
import { backendLogDefaults, desktopLogLevel, rotatingLog } from './backend-log.js';
import { storeConnection } from './connection.js';
import { backUpNow, showBackups } from './backups.js';
import { createInvite } from './invite.js';
import { appOrigins, connectionBroadcaster, handleConnectionRequests } from './ipc.js';
import { stopStoreBeforeQuit } from './lifecycle.js';
import { appArgv, runServerMode, wantsServerMode } from './server-mode.js';
import { Supervisor, type SupervisorState } from './supervisor.js';
import { TrayController } from './tray.js';
import { utilityProcessForker } from './utility-backend.js';
import { keepToAppPages, restrictPermissions, windowOptions } from './window.js';

const compiled = dirname(fileURLToPath(import.meta.url)); // out/main
const backendEntry = join(compiled, '../backend/child.js'); // the bundle (build/bundle-backend.ts)
const preloadFile = join(compiled, '../preload/index.cjs');

/** Kept here for the app's lifetime: a Tray without a reference is garbage-collected. */
let tray: TrayController | undefined;

function trayIcon() {
  const name = process.platform === 'darwin' ? 'trayTemplate.png' : process.platform === 'win32' ? 'icon.ico' : 'tray.png';
  const icon = nativeImage.createFromPath(join(app.getAppPath(), 'build', name));
  if (process.platform === 'darwin') icon.setTemplateImage(true);
  return icon;
}

function openWindow(): void {
  const existing = BrowserWindow.getAllWindows()[0];
  if (existing) return existing.show();
  const window = new BrowserWindow(windowOptions(preloadFile));
  keepToAppPages(window.webContents);
  void window.loadURL(rendererUrl);
}

function startDesktop(): void {
  if (!app.requestSingleInstanceLock()) {
    process.stderr.write('api-store is already running; the running instance was asked to show its window.\n');
    return app.exit(0);
  }
  protocol.registerSchemesAsPrivileged([appScheme]);
  const endpoint = { host: '127.0.0.1', prefix: '/v1', token: createLaunchToken() };
  const connectionOf = (state: SupervisorState) => storeConnection(state, endpoint);

  app.on('second-instance', openWindow);
  app.on('window-all-closed', () => {
    // The store keeps serving from the tray; Quit is in the tray menu.
  });
  app.on('activate', openWindow);

  void app.whenReady().then(() => {
    const dataDir = join(app.getPath('userData'), 'store');
    const rendererRoot = join(app.getAppPath(), 'renderer-stub');
    protocol.handle(appScheme.scheme, (request) => serveAppFile(request.url, rendererRoot));
    restrictPermissions(session.defaultSession);

    // Inside userData on every platform (macOS would put logs in ~/Library/Logs), private, rotated.
    const log = rotatingLog({ dir: join(app.getPath('userData'), 'logs'), ...backendLogDefaults });
    const supervisor = new Supervisor({
      fork: utilityProcessForker(utilityProcess.fork, backendEntry, log, process.env),
      config: { ...endpoint, dataDir, port: 0, allowedOrigins: appOrigins, logLevel: desktopLogLevel },
    });
    handleConnectionRequests(ipcMain, () => connectionOf(supervisor.state));
    const broadcast = connectionBroadcaster(() => BrowserWindow.getAllWindows());

    tray = new TrayController(new Tray(trayIcon()), (template) => Menu.buildFromTemplate(template), {
      setLan: (enabled) => supervisor.setLan(enabled),
      copyLanAddress: () => clipboard.writeText(supervisor.state.lan.url ?? ''),
      inviteTeammate: () => void inviteTeammate(connectionOf(supervisor.state)),
      openDataFolder: () => void shell.openPath(dataDir),
      backUpNow: () => void backUpFromTray(connectionOf(supervisor.state)),
      showBackups: () => void showBackups(dataDir, (path) => shell.openPath(path)).catch((error: Error) => dialog.showErrorBox('The backups folder could not be opened', error.message)),
      restartStore: () => supervisor.start(),
      quit: () => app.quit(),
    });
    let previousStatus = supervisor.state.status;
    supervisor.onChange((state) => {
      broadcast(connectionOf(state));
      tray?.show(state);
      // The tray always shows the error; an open window also gets a dialog, once.
      if (state.status === 'error' && previousStatus !== 'error' && BrowserWindow.getAllWindows().length > 0) {
        dialog.showErrorBox('The store stopped', state.error ?? 'The store failed repeatedly.');
      }
      previousStatus = state.status;
    });
    tray.show(supervisor.state);
    stopStoreBeforeQuit(app, supervisor);
    supervisor.start();
    openWindow();
  });
}

async function backUpFromTray(connection: StoreConnection | null): Promise<void> {
  if (!connection) return;
  try {
    const backup = await backUpNow(connection);
    const size = `${(backup.size / 1024).toFixed(1)} KB`;
    await dialog.showMessageBox({ type: 'info', title: 'Backup written', message: 'The store was backed up', detail: `${backup.name} (${size}), in the backups folder. Restore it with api-store restore.`, buttons: ['OK'] });
  } catch (error) {
    dialog.showErrorBox('No backup was written', (error as Error).message);
  }
}

async function inviteTeammate(connection: StoreConnection | null): Promise<void> {
  if (!connection?.lan.url) return;
  try {
    const invite = await createInvite(connection);
    const message = `Address: ${connection.lan.url}\nFingerprint: ${connection.lan.fingerprint ?? 'unknown'}\nInvite code: ${invite.code}\nValid until ${new Date(invite.expires).toLocaleString()}; it works once.`;
    const { response } = await dialog.showMessageBox({ type: 'info', title: 'Invite a teammate', message: 'Give your teammate these details', detail: message, buttons: ['Copy', 'Close'] });
    if (response === 0) clipboard.writeText(message);
  } catch (error) {
    dialog.showErrorBox('No invite was created', (error as Error).message);
  }
}

const args = appArgv(process.argv, process.defaultApp ?? false);
if (wantsServerMode(args)) {
  // Headless: no window and no tray, and no GPU process to initialise on a machine without one.
  app.disableHardwareAcceleration();
  await runServerMode(args);
} else {
  startDesktop();
}
