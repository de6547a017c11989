import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { preloadBuildOptions } from '../../build/bundle-preload.js';

let dir: string;
let bundle: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'api-store-preload-'));
  const outfile = join(dir, 'index.cjs');
  await build(preloadBuildOptions(outfile));
  bundle = await readFile(outfile, 'utf8');
});
after(() => rm(dir, { recursive: true, force: true }));

/**
 * Runs the bundle the way a sandboxed preload runs: CommonJS, in its own context, with a
 * `require` that knows only `electron` (stand-ins for contextBridge and ipcRenderer).
 */
function loadPreload(code = bundle) {
  const exposed = new Map<string, unknown>();
  const invoked: unknown[][] = [];
  const ipcRenderer = Object.assign(new EventEmitter(), {
    invoke: async (...args: unknown[]) => {
      invoked.push(args);
      return { baseUrl: 'http://127.0.0.1:1/v1' };
    },
  });
  const contextBridge = { exposeInMainWorld: (key: string, api: unknown) => void exposed.set(key, api) };
  const required: string[] = [];
  const require = (name: string) => {
    required.push(name);
    if (name === 'electron') return { contextBridge, ipcRenderer };
    throw new Error(`a sandboxed preload cannot require ${name}`);
  };
  const module = { exports: {} };
  runInNewContext(code, { require, module, exports: module.exports });
  return { exposed, invoked, ipcRenderer, required };
}

test('the preload bundle is one CommonJS file that requires only electron', () => {
  assert.doesNotMatch(bundle, /^\s*(import|export)\s/m);
  const { required } = loadPreload();
  assert.deepEqual([...new Set(required)], ['electron']);
});

test('it exposes exactly window.apiStore = {getConnection, onConnectionChanged}', () => {
  const { exposed, ipcRenderer } = loadPreload();
  assert.deepEqual([...exposed.keys()], ['apiStore']);
  const api = exposed.get('apiStore') as Record<string, unknown>;
  assert.deepEqual(Object.keys(api).sort(), ['getConnection', 'onConnectionChanged']);
  for (const value of Object.values(api)) {
    assert.equal(typeof value, 'function');
    assert.notEqual(value, ipcRenderer);
  }
});

test('getConnection invokes store:get-connection with nothing else', async () => {
  const { exposed, invoked } = loadPreload();
  const api = exposed.get('apiStore') as { getConnection(...args: unknown[]): Promise<unknown> };
  assert.deepEqual(await api.getConnection('ignored', 'arguments'), { baseUrl: 'http://127.0.0.1:1/v1' });
  assert.deepEqual(invoked, [['store:get-connection']]);
});

test('onConnectionChanged passes only the connection (never the IPC event) and can unsubscribe', () => {
  const { exposed, ipcRenderer } = loadPreload();
  const api = exposed.get('apiStore') as { onConnectionChanged(listener: (...args: unknown[]) => void): () => void };
  const heard: unknown[][] = [];
  const unsubscribe = api.onConnectionChanged((...args) => heard.push(args));
  assert.equal(ipcRenderer.listenerCount('store:connection-changed'), 1);

  const event = { sender: ipcRenderer };
  ipcRenderer.emit('store:connection-changed', event, { baseUrl: 'http://127.0.0.1:2/v1' });
  ipcRenderer.emit('store:connection-changed', event, null);
  assert.deepEqual(heard, [[{ baseUrl: 'http://127.0.0.1:2/v1' }], [null]]);

  unsubscribe();
  assert.equal(ipcRenderer.listenerCount('store:connection-changed'), 0);
});

test('a host\'s own preload (examples/host-app) bundles api-store/preload into one file and exposes window.apiStore beside its own API', async () => {
  const outfile = join(dir, 'host-preload.cjs');
  await build({ ...preloadBuildOptions(outfile), entryPoints: [fileURLToPath(new URL('../../examples/host-app/preload.ts', import.meta.url))] });
  const { exposed, invoked, required } = loadPreload(await readFile(outfile, 'utf8'));
  assert.deepEqual([...new Set(required)], ['electron']);
  assert.deepEqual([...exposed.keys()], ['apiStore', 'hostApp']);
  await (exposed.get('apiStore') as { getConnection(): Promise<unknown> }).getConnection();
  assert.deepEqual(invoked, [['store:get-connection']]);
});
