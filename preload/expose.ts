/**
 * `api-store/preload`: for a host's own preload. `exposeApiStore({ contextBridge, ipcRenderer })`
 * puts `window.apiStore` into its pages. It exposes one narrow function per channel, never
 * `ipcRenderer` itself, and never the IPC event (its `sender` is the ipcRenderer).
 */
import type { ContextBridge, IpcRenderer, IpcRendererEvent } from 'electron';
import { channels, type ApiStoreBridge, type StoreConnection } from './api.js';

export type { ApiStoreBridge, LanStatus, StoreConnection } from './api.js';

export interface PreloadElectron {
  contextBridge: Pick<ContextBridge, 'exposeInMainWorld'>;
  ipcRenderer: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;
}

export function exposeApiStore({ contextBridge, ipcRenderer }: PreloadElectron): void {
  const apiStore: ApiStoreBridge = {
    getConnection: () => ipcRenderer.invoke(channels.getConnection),
    onConnectionChanged(listener) {
      const forward = (_event: IpcRendererEvent, connection: StoreConnection | null) => listener(connection);
      ipcRenderer.on(channels.connectionChanged, forward);
      return () => {
        ipcRenderer.removeListener(channels.connectionChanged, forward);
      };
    },
  };
  contextBridge.exposeInMainWorld('apiStore', apiStore);
}
