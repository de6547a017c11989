/**
 * The example host's own preload: the host's API next to `window.apiStore`. Bundled to
 * out/preload.cjs (a sandboxed preload is one CommonJS file that requires only electron).
 */
import { contextBridge, ipcRenderer } from 'electron';
import { exposeApiStore } from 'api-store/preload';

exposeApiStore({ contextBridge, ipcRenderer });
contextBridge.exposeInMainWorld('hostApp', { name: 'Host App' });
