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
 * Chromium's Local Network Access permissions, which Electron 43 and later enforce: the app's
 * pages need them to call the store on 127.0.0.1. Strings, because the typings of the Electron in
 * use do not list them yet.
 */
const localNetworkPermissions: readonly string[] = ['local-network-access', 'local-network', 'loopback-network'];

/**
 * The app's pages need no camera, notifications, geolocation, USB…: every permission check and
 * device request is refused, and a permission request is granted only for local network access,
 * and only to the app's own pages.
 */
export function restrictPermissions(session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>): void {
  session.setPermissionRequestHandler((_webContents, permission, answer, details) =>
    answer(localNetworkPermissions.includes(permission) && isAppFrame({ url: details.requestingUrl }, appOrigins)),
  );
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
