import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pageOrigin, startHostApp, type HostApp } from '../../examples/host-app/app.js';
import type { StoreConnection, SupervisorState } from 'api-store/host';
import { standInElectron } from '../helpers/electron-stand-ins.js';
import { untilState } from '../helpers/supervisor-state.js';
import { pinnedFetch } from '../helpers/pinned-https.js';
import { makeTempDir } from '../helpers/store.js';

/**
 * examples/host-app driven as Electron would drive it, with stand-ins (test/helpers/electron-stand-ins.ts)
 * and the real backend forked where api-store/host says it is.
 */

const dirs: string[] = [];
const cleanups: (() => void)[] = [];
after(async () => {
  for (const cleanup of cleanups) cleanup();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function userDataDir(): Promise<string> {
  const dir = await makeTempDir('api-store-host-app-');
  dirs.push(dir);
  return dir;
}

/** LAN sharing on a loopback address and without mDNS: tests reach no network. */
const loopbackLan = { host: '127.0.0.2', port: 0, discovery: false };
const page = `${pageOrigin}/index.html`;

async function launch(userData: string) {
  const electron = standInElectron(userData);
  cleanups.push(electron.reap);
  const app = await startHostApp(electron.electron as never, { lan: loopbackLan });
  return { ...electron, app };
}

function until(app: HostApp, predicate: (state: SupervisorState) => boolean): Promise<SupervisorState> {
  return untilState(app.store.supervisor, predicate);
}

async function quit(host: Awaited<ReturnType<typeof launch>>): Promise<void> {
  host.electron.app.quit();
  await host.quit;
}

const authorized = (connection: StoreConnection, path: string, init: RequestInit = {}) =>
  fetch(`${connection.baseUrl}${path}`, { ...init, headers: { Authorization: `Bearer ${connection.token}`, 'Content-Type': 'application/json' } });

test('the example host starts the store, its page gets the connection over IPC, and it survives a backend crash', async () => {
  const host = await launch(await userDataDir());
  await until(host.app, (s) => s.status === 'running');
  const [window] = host.pages;
  assert.equal(window.url, page);

  const first = (await host.invoke('store:get-connection', page)) as StoreConnection;
  assert.ok(first, 'the page is given the connection');
  assert.equal((await authorized(first, '/store')).status, 200);
  await assert.rejects(async () => host.invoke('store:get-connection', 'https://evil.example/'), /only given to the app's own pages/);
  const created = await authorized(first, '/files', { method: 'POST', body: JSON.stringify({ kind: 'Core#Space', info: { name: 'before the crash' } }) });
  assert.equal(created.status, 201);

  // The backend dies (kill -9); the host's store comes back on the same data.
  host.children.at(-1)!.kill('SIGKILL');
  await until(host.app, (s) => s.status === 'restarting');
  assert.equal(await host.invoke('store:get-connection', page), null, 'no connection while the store is down');
  await until(host.app, (s) => s.status === 'running');
  const second = (await host.invoke('store:get-connection', page)) as StoreConnection;
  assert.equal(second.token, first.token);
  const files = (await (await authorized(second, '/files')).json()) as { items: { info: { name: string } }[] };
  assert.ok(files.items.some((file) => file.info.name === 'before the crash'));

  // The page was told each change: the first connection, none while down, the new one.
  const told = window.received.filter((m) => m.channel === 'store:connection-changed').map((m) => (m.value as StoreConnection | null)?.baseUrl ?? null);
  assert.deepEqual(told.slice(-2), [null, second.baseUrl]);
  assert.ok(told.includes(first.baseUrl));
  await quit(host);
});

test('the host merges the store\'s tray items with its own, and toggles LAN sharing from them', async () => {
  const userData = await userDataDir();
  const host = await launch(userData);
  await until(host.app, (s) => s.status === 'running');
  const [tray] = host.trays;
  const labels = () => tray.menu.map((item) => (item.type === 'separator' ? '---' : item.label));
  assert.deepEqual(labels(), ['Host App', '---', `Store running on port ${host.app.store.supervisor.state.port}`, '---', 'Share on LAN', '---', 'Back up now', 'Show backups', 'Open data folder', '---', 'Quit Host App']);

  tray.click('Share on LAN', true);
  const sharing = await until(host.app, (s) => s.lan.enabled);
  assert.match(sharing.lan.url ?? '', /^https:\/\/127\.0\.0\.2:\d+\/v1$/);
  assert.ok(labels().includes(`Address: ${sharing.lan.url}`), 'the tray was rebuilt with the address');
  assert.equal((await pinnedFetch(`${sharing.lan.url}/store`, sharing.lan.fingerprint!)).status, 200);
  const choiceFile = join(host.app.store.dataDir, 'lan-sharing.json');
  // The choice is written as it is made; wait for the port to be in it.
  const port = Number(new URL(sharing.lan.url!).port);
  while (!(await readFile(choiceFile, 'utf8').catch(() => '')).includes(String(port))) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(JSON.parse(await readFile(choiceFile, 'utf8')), { enabled: true, port });
  if (process.platform !== 'win32') assert.equal((await stat(choiceFile)).mode & 0o777, 0o600);

  tray.click('Share on LAN', false);
  await until(host.app, (s) => !s.lan.enabled);
  assert.ok(!labels().some((label) => label?.startsWith('Address:')));
  await quit(host);
  assert.deepEqual(JSON.parse(await readFile(choiceFile, 'utf8')), { enabled: false, port }, 'off, and the port kept for next time');
});

test('sharing comes back on after a restart, at the same address, and an invite given before still works', async () => {
  const userData = await userDataDir();
  const before = await launch(userData);
  await until(before.app, (s) => s.status === 'running');
  before.trays[0].click('Share on LAN', true);
  const sharing = await until(before.app, (s) => s.lan.enabled);
  before.trays[0].click('Invite a teammate…');
  while (before.clipboardTexts.length === 0) await new Promise((resolve) => setImmediate(resolve));
  const code = /Invite code: (\S+)/.exec(before.clipboardTexts[0])?.[1];
  assert.ok(code, before.clipboardTexts[0]);
  await quit(before);

  const after = await launch(userData);
  const restored = await until(after.app, (s) => s.lan.enabled);
  assert.equal(restored.lan.url, sharing.lan.url, 'the address the teammate was given');
  assert.equal(restored.lan.fingerprint, sharing.lan.fingerprint);
  const account = { username: 'bob', password: 'long enough password' };
  const redeemed = await pinnedFetch(`${restored.lan.url}/auth/invites/redeem`, restored.lan.fingerprint!, { method: 'POST', body: { code, name: 'Bob', ...account } });
  assert.equal(redeemed.status, 201, JSON.stringify(redeemed.body));
  assert.equal((await pinnedFetch(`${restored.lan.url}/sessions`, restored.lan.fingerprint!, { method: 'POST', body: account })).status, 201);
  await quit(after);
});

test('the host quits cleanly: the first quit waits for the store to stop, then the app quits', async () => {
  const host = await launch(await userDataDir());
  await until(host.app, (s) => s.status === 'running');
  const backend = host.children.at(-1)!;
  const exited = new Promise<number | null>((resolve) => backend.once('exit', (code) => resolve(code)));
  const stopping = until(host.app, (s) => s.status === 'stopping');
  host.trays[0].click('Quit Host App');
  await stopping;
  await host.quit;
  assert.equal(host.app.store.supervisor.state.status, 'stopped');
  assert.equal(await exited, 0, 'the backend closed the store and exited by itself');
});

test('when the remembered LAN port is taken at the next start, sharing comes on at a free one and that port is kept', async () => {
  const userData = await userDataDir();
  const first = await launch(userData);
  await until(first.app, (s) => s.status === 'running');
  first.trays[0].click('Share on LAN', true);
  const sharing = await until(first.app, (s) => s.lan.enabled);
  await quit(first);

  const taken = Number(new URL(sharing.lan.url!).port);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(taken, loopbackLan.host, resolve));
  try {
    const second = await launch(userData);
    const restored = await until(second.app, (s) => s.lan.enabled);
    const port = Number(new URL(restored.lan.url!).port);
    assert.notEqual(port, taken);
    await quit(second);
    assert.deepEqual(JSON.parse(await readFile(join(second.app.store.dataDir, 'lan-sharing.json'), 'utf8')), { enabled: true, port });
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
