import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { channels, type StoreConnection } from '../preload/api.js';

/** Origins (scheme://host) of the app's own pages, the only ones told the connection. */
export const appOrigins = ['app://renderer'];

/**
 * True when the frame shows one of the app's pages. `senderFrame` is null when the frame
 * navigated away or was destroyed; URLs are compared parsed, never by prefix.
 */
export function isAppFrame(frame: { url: string } | null | undefined, origins: readonly string[]): boolean {
  if (!frame) return false;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return false;
  }
  return origins.includes(`${url.protocol}//${url.host}`);
}

/** Answers `store:get-connection` for the app's own pages; any other sender gets an error. */
export function handleConnectionRequests(
  ipcMain: Pick<IpcMain, 'handle'>,
  currentConnection: () => StoreConnection | null,
  origins: readonly string[] = appOrigins,
): void {
  ipcMain.handle(channels.getConnection, (event: IpcMainInvokeEvent) => {
    if (!isAppFrame(event.senderFrame, origins)) throw new Error('The store connection is only given to the app\'s own pages.');
    return currentConnection();
  });
}

/** A page that may be told the connection: any window's or view's `webContents`. */
export type PageContents = Pick<WebContents, 'send' | 'getURL'>;

/**
 * Returns a function that tells every app page about the connection when it differs from the
 * last one told (a restart gives a new port; LAN changes the `lan` part; `null` while down).
 * Pages of other origins in the same app (a host's web views) are never told.
 */
export function connectionBroadcaster(pages: () => readonly PageContents[], origins: readonly string[] = appOrigins) {
  let last: string | undefined;
  return (connection: StoreConnection | null): void => {
    const serialized = JSON.stringify(connection);
    if (serialized === last) return;
    last = serialized;
    for (const page of pages()) {
      if (isAppFrame({ url: page.getURL() }, origins)) page.send(channels.connectionChanged, connection);
    }
  };
}
