import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storeConnection } from '../../main/connection.js';
import { connectionBroadcaster, handleConnectionRequests, isAppFrame, type PageContents } from '../../main/ipc.js';
import type { StoreConnection } from '../../preload/api.js';

const endpoint = { host: '127.0.0.1', prefix: '/v1', token: 'x'.repeat(43) };
const connection = storeConnection({ status: 'running', port: 4100, lan: { enabled: false } }, endpoint) as StoreConnection;

/** A stand-in ipcMain that keeps the registered handlers so the test can invoke them. */
function standInIpcMain() {
  const handlers = new Map<string, (event: unknown) => unknown>();
  return { handlers, handle: (channel: string, handler: (event: unknown) => unknown) => void handlers.set(channel, handler) };
}

test('the connection names the loopback listener, its WebSocket and the token; none while the store is down', () => {
  assert.deepEqual(connection, { baseUrl: 'http://127.0.0.1:4100/v1', wsUrl: 'ws://127.0.0.1:4100/v1/events', token: 'x'.repeat(43), lan: { enabled: false } });
  assert.equal(storeConnection({ status: 'running', port: 1, lan: { enabled: false } }, { host: '::1', prefix: '', token: 't' })?.baseUrl, 'http://[::1]:1');
  for (const status of ['starting', 'restarting', 'error', 'stopping', 'stopped'] as const) {
    assert.equal(storeConnection({ status, lan: { enabled: false } }, endpoint), null, status);
  }
});

test('store:get-connection answers the app\'s own pages only', async () => {
  const ipcMain = standInIpcMain();
  handleConnectionRequests(ipcMain as never, () => connection);
  const handler = ipcMain.handlers.get('store:get-connection');
  assert.ok(handler);
  assert.deepEqual(await handler({ senderFrame: { url: 'app://renderer/index.html' } }), connection);
  assert.deepEqual(await handler({ senderFrame: { url: 'app://renderer/nested/page.html?x=1#y' } }), connection);

  const refused = [
    null, // the frame navigated away or was destroyed
    undefined,
    { url: 'https://evil.example/' },
    { url: 'app://renderer.evil.example/index.html' },
    { url: 'app://evil/index.html' },
    { url: 'file:///home/user/index.html' },
    { url: 'http://127.0.0.1:4100/v1/store' },
    { url: 'not a url' },
    { url: '' },
  ];
  for (const senderFrame of refused) {
    assert.throws(() => handler({ senderFrame }), /only given to the app's own pages/, JSON.stringify(senderFrame));
  }
});

test('the handler returns null while the store is not running', () => {
  const ipcMain = standInIpcMain();
  handleConnectionRequests(ipcMain as never, () => null);
  assert.equal(ipcMain.handlers.get('store:get-connection')?.({ senderFrame: { url: 'app://renderer/index.html' } }), null);
});

test('isAppFrame compares parsed origins, not prefixes', () => {
  assert.equal(isAppFrame({ url: 'app://renderer/' }, ['app://renderer']), true);
  assert.equal(isAppFrame({ url: 'app://renderer@evil/' }, ['app://renderer']), false);
});

test('connection changes are broadcast to every app window, once per change', () => {
  const sent: { window: string; channel: string; connection: unknown }[] = [];
  const window = (name: string, url: string): PageContents => ({
    getURL: () => url,
    send: (channel: string, value: unknown) => void sent.push({ window: name, channel, connection: value }),
  });
  const windows = [window('main', 'app://renderer/index.html'), window('second', 'app://renderer/other.html'), window('foreign', 'https://example.com/')];
  const broadcast = connectionBroadcaster(() => windows);

  broadcast(null);
  broadcast(connection);
  broadcast({ ...connection }); // same content: nothing new to tell
  broadcast({ ...connection, lan: { enabled: true, url: 'https://192.0.2.1:8443/v1', fingerprint: 'AB:CD' } });

  assert.deepEqual(
    sent.map((s) => [s.window, s.channel, s.connection === null ? null : (s.connection as StoreConnection).lan.enabled]),
    [
      ['main', 'store:connection-changed', null],
      ['second', 'store:connection-changed', null],
      ['main', 'store:connection-changed', false],
      ['second', 'store:connection-changed', false],
      ['main', 'store:connection-changed', true],
      ['second', 'store:connection-changed', true],
    ],
  );
});
