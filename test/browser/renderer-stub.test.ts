import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { serveAppFile } from '../../main/app-protocol.js';
import type { StoreConnection } from '../../preload/api.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

const rendererRoot = fileURLToPath(new URL('../../renderer-stub/', import.meta.url));

/** Serves renderer-stub/ on loopback through the same file mapping as the app:// protocol. */
async function servePage(): Promise<{ server: Server; origin: string }> {
  const server = createServer(async (request, response) => {
    const file = await serveAppFile(`app://renderer${request.url ?? '/'}`, rendererRoot);
    response.writeHead(file.status, Object.fromEntries(file.headers));
    response.end(Buffer.from(await file.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let dir: string;
let page: { server: Server; origin: string };
let store: TestStore;
let browser: BrowserContext;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'api-store-browser-'));
  page = await servePage();
  // The page's origin must be allowed by the store, as app://renderer is in the app.
  store = await startTestStore({ allowedOrigins: [page.origin] });
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await store?.stop();
  await new Promise((resolve) => page?.server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function createSpace(name: string): Promise<{ key: string }> {
  const response = await store.api('/files', { method: 'POST', body: { kind: 'Core#Space', info: { name } } });
  assert.equal(response.status, 201);
  return (await response.json()) as { key: string };
}

/** The connection main would hand out for this store. */
function connectionOf({ baseUrl, token }: TestStore): StoreConnection {
  return { baseUrl, wsUrl: `${baseUrl.replace(/^http/, 'ws')}/events`, token, lan: { enabled: false } };
}

/**
 * What the preload exposes, standing in with a fixed connection. Given as source text: a function
 * would be serialized as compiled by tsx, with helpers the page does not have.
 */
function standInBridge(connection: StoreConnection | null): string {
  return `window.apiStore = { getConnection: async () => (${JSON.stringify(connection)}), onConnectionChanged: () => () => {} };`;
}

/** Opens the page with a stand-in for the preload's bridge that returns the real store's connection. */
async function openStub(problems: string[]): Promise<Page> {
  const connection = connectionOf(store);
  const tab = await browser.newPage();
  tab.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  tab.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await tab.addInitScript({ content: standInBridge(connection) });
  await tab.goto(`${page.origin}/index.html`);
  return tab;
}

const listed = (tab: Page, list: string, text: string) => tab.locator(`#${list} li`, { hasText: text }).waitFor();

test('the renderer stub lists, creates and follows live changes in real Chromium', async () => {
  const seeded = await createSpace('Seeded space');
  const request = await store.api(`/files?parent=${seeded.key}`, { method: 'POST', body: { kind: 'Core#HttpRequest', info: { name: 'GET /health' } } });
  assert.equal(request.status, 201);

  const problems: string[] = [];
  const tab = await openStub(problems);
  await tab.locator('#status', { hasText: 'Live' }).waitFor();
  assert.equal(await tab.locator('#mode').textContent(), 'single-user');

  // Lists spaces, and a space's files.
  await listed(tab, 'spaces', 'Seeded space');
  await tab.getByRole('button', { name: 'Seeded space' }).click();
  await listed(tab, 'files', 'GET /health');

  // Creates a space; the store has it.
  await tab.locator('#space-name').fill('Made in the page');
  await tab.getByRole('button', { name: 'Create space' }).click();
  await listed(tab, 'spaces', 'Made in the page');
  const spaces = (await (await store.api('/files?kind=Core%23Space')).json()) as { items: { info: { name: string } }[] };
  assert.ok(spaces.items.some((space) => space.info.name === 'Made in the page'));

  // Another client's changes arrive through the WebSocket.
  await createSpace('From another client');
  await listed(tab, 'spaces', 'From another client');
  const other = await store.api(`/files?parent=${seeded.key}`, { method: 'POST', body: { kind: 'Core#HttpRequest', info: { name: 'POST /login' } } });
  assert.equal(other.status, 201);
  await listed(tab, 'files', 'POST /login');

  // Names are shown as text, never as markup.
  await createSpace('<img src=x onerror="document.title=1">');
  await listed(tab, 'spaces', '<img src=x');
  assert.equal(await tab.locator('#spaces img').count(), 0);

  const screenshot = join(dir, 'renderer-stub.png');
  await tab.screenshot({ path: screenshot, fullPage: true });
  assert.ok((await stat(screenshot)).size > 0);
  assert.deepEqual(problems, [], 'no script errors and no CSP violations');
});

test('the page waits while the store is down and connects when the bridge announces it', async () => {
  await createSpace('Visible after the announcement');
  const tab = await browser.newPage();
  // This stand-in also keeps the page's listener, so the test can announce a new connection.
  await tab.addInitScript({
    content: `window.apiStore = { getConnection: async () => null, onConnectionChanged: (listener) => { window.announceConnection = listener; return () => {}; } };`,
  });
  await tab.goto(`${page.origin}/index.html`);
  await tab.locator('#status', { hasText: 'The store is not running' }).waitFor();

  await tab.evaluate(`window.announceConnection(${JSON.stringify(connectionOf(store))})`);
  await tab.locator('#status', { hasText: 'Live' }).waitFor();
  await listed(tab, 'spaces', 'Visible after the announcement');
});
