/**
 * The ready-made preload (`api-store/preload/bundled.cjs`), for this repository's app and hosts
 * without a preload of their own. It runs sandboxed, so it is bundled into one CommonJS file
 * (build/bundle-preload.ts) that requires only `electron`.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { exposeApiStore } from './expose.js';

exposeApiStore({ contextBridge, ipcRenderer });
