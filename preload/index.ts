/**
 * The preload of the app's windows. It runs sandboxed, so it is bundled into one CommonJS file
 * (build/bundle-preload.ts). It exposes one narrow function per channel, never `ipcRenderer`
 * itself, and never the IPC event (its `sender` is the ipcRenderer).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { channels, type ApiStoreBridge, type StoreConnection } from './api.js';

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
