import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';
import { appOrigins, isAppFrame } from './ipc.js';

/** A window for the app's pages: isolated, sandboxed, no Node; only the preload's bridge. */
export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1000,
    height: 720,
    title: 'api-store',
    webPreferences: { preload, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
  };
}

/** Pages of the app stay pages of the app: no pop-ups, no navigation to other origins. */
export function keepToAppPages(webContents: Pick<WebContents, 'setWindowOpenHandler' | 'on'>): void {
  webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  webContents.on('will-navigate', (event, url) => {
    if (!isAppFrame({ url }, appOrigins)) event.preventDefault();
  });
}

/**
 * The app's pages need no camera, notifications, geolocation…: every permission request is
 * refused. (Electron 43 and later enforce Chromium's Local Network Access, so the pages' calls to
 * 127.0.0.1 will need the loopback-network permission granted here for app:// frames.)
 */
export function refusePermissionRequests(session: Pick<Session, 'setPermissionRequestHandler'>): void {
  session.setPermissionRequestHandler((_webContents, _permission, answer) => answer(false));
}
