/**
 * The example host's main process, with the Electron objects passed in (main.ts passes the real
 * ones; the tests pass stand-ins). Everything about the store comes from `api-store/host`; the
 * window, tray and page are the host's own.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App, BrowserWindow, BrowserWindowConstructorOptions, Menu, MenuItemConstructorOptions, NativeImage, Protocol, Tray } from 'electron';
import { createStoreHost, type HostElectron, type StoreHost, type StoreHostOptions } from 'api-store/host';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The host's pages are served from `host-app://ui/`: a real origin, the one the store trusts. */
export const pageScheme = { scheme: 'host-app', privileges: { standard: true, secure: true, supportFetchAPI: true } };
export const pageOrigin = 'host-app://ui';

export interface HostAppElectron extends HostElectron {
  app: Pick<App, 'getPath' | 'quit' | 'on'>;
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => Pick<BrowserWindow, 'loadURL'>;
  Tray: new (icon: NativeImage) => Pick<Tray, 'setContextMenu' | 'setToolTip'>;
  Menu: Pick<typeof Menu, 'buildFromTemplate'>;
  nativeImage: { createFromPath(path: string): NativeImage };
  protocol: Pick<Protocol, 'handle'>;
}

export interface HostApp {
  store: StoreHost;
  tray: Pick<Tray, 'setContextMenu' | 'setToolTip'>;
}

const pageTypes: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.png': 'image/png' };

/** Serves the flat page/ folder; `basename` keeps every request inside it. */
async function servePage(requestUrl: string): Promise<Response> {
  const file = join(here, 'page', basename(new URL(requestUrl).pathname) || 'index.html');
  try {
    return new Response(await readFile(file), { headers: { 'Content-Type': pageTypes[extname(file)] ?? 'application/octet-stream' } });
  } catch {
    return new Response('Not found', { status: 404 });
  }
}

/** Call once the app is ready. `storeOptions` adds to the store's (tests keep LAN sharing on loopback). */
export async function startHostApp(electron: HostAppElectron, storeOptions: Partial<StoreHostOptions> = {}): Promise<HostApp> {
  const { app, BrowserWindow, Tray, Menu, nativeImage, protocol } = electron;
  protocol.handle(pageScheme.scheme, (request) => servePage(request.url));

  const store = await createStoreHost(electron, { ...storeOptions, allowedOrigins: [pageOrigin] });
  app.on('before-quit', store.beforeQuit);

  // The host's tray: its own items around the store's fragment.
  const tray = new Tray(nativeImage.createFromPath(join(here, 'page', 'icon.png')));
  const hostItems: MenuItemConstructorOptions[] = [{ type: 'separator' }, { label: 'Quit Host App', click: () => app.quit() }];
  const showTray = () => {
    tray.setToolTip('Host App');
    tray.setContextMenu(Menu.buildFromTemplate([{ label: 'Host App', enabled: false }, { type: 'separator' }, ...store.menuItems(), ...hostItems]));
  };
  store.supervisor.onChange(showTray);
  showTray();

  store.supervisor.start();
  const window = new BrowserWindow({
    width: 800,
    height: 600,
    webPreferences: { preload: join(here, 'out', 'preload.cjs'), contextIsolation: true, sandbox: true, nodeIntegration: false },
  });
  await window.loadURL(`${pageOrigin}/index.html`);
  return { store, tray };
}
