/**
 * Electron main entry of this repository's own app: a host on `api-store/host` like any other,
 * adding a window, a tray and single-instance behaviour. `electron . --server` runs the store
 * headless instead.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as electron from 'electron';
import { createStoreHost } from './host.js';
import { appScheme, rendererUrl, serveAppFile } from './app-protocol.js';
import { appOrigins } from './ipc.js';
import { appArgv, runServerMode, wantsServerMode } from './server-mode.js';
import { TrayController } from './tray.js';
import { keepToAppPages, restrictPermissions, windowOptions } from './window.js';

const { app, BrowserWindow, dialog, Menu, nativeImage, protocol, session, Tray } = electron;
const preloadFile = join(dirname(fileURLToPath(import.meta.url)), '../preload/index.cjs');

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

async function startDesktop(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    process.stderr.write('api-store is already running; the running instance was asked to show its window.\n');
    return app.exit(0);
  }
  protocol.registerSchemesAsPrivileged([appScheme]);
  app.on('second-instance', openWindow);
  // The store keeps serving from the tray when the last window closes; Quit is in the tray menu.
  app.on('window-all-closed', () => {});
  app.on('activate', openWindow);

  await app.whenReady();
  protocol.handle(appScheme.scheme, (request) => serveAppFile(request.url, join(app.getAppPath(), 'renderer-stub')));
  restrictPermissions(session.defaultSession);
  const store = await createStoreHost(electron, { allowedOrigins: appOrigins, dataDir: join(app.getPath('userData'), 'store') });
  app.on('before-quit', store.beforeQuit);

  tray = new TrayController(new Tray(trayIcon()), (template) => Menu.buildFromTemplate(template), store.menuItems, [{ label: 'Quit', click: () => app.quit() }]);
  let previousStatus = store.supervisor.state.status;
  store.supervisor.onChange((state) => {
    tray?.show(state);
    // The tray always shows the error; an open window also gets a dialog, once.
    if (state.status === 'error' && previousStatus !== 'error' && BrowserWindow.getAllWindows().length > 0) {
      dialog.showErrorBox('The store stopped', state.error ?? 'The store failed repeatedly.');
    }
    previousStatus = state.status;
  });
  tray.show(store.supervisor.state);
  store.supervisor.start();
  openWindow();
}

const args = appArgv(process.argv, process.defaultApp ?? false);
if (wantsServerMode(args)) {
  // Headless: no window and no tray, and no GPU process to initialise on a machine without one.
  app.disableHardwareAcceleration();
  await runServerMode(args);
} else {
  // Not awaited: a top-level await of `whenReady` in the entry module would hold up `ready`.
  startDesktop().catch((error: Error) => {
    dialog.showErrorBox('api-store could not start', error.message);
    app.exit(1);
  });
}
