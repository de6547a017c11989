import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serveAppFile } from '../../main/app-protocol.js';
import { keepToAppPages, refusePermissionRequests, windowOptions } from '../../main/window.js';

let dir: string;
let root: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'api-store-protocol-'));
  root = join(dir, 'renderer');
  await mkdir(root);
  await writeFile(join(root, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(join(root, 'app.js'), 'export {};');
  await writeFile(join(dir, 'secret.txt'), 'secret');
});
after(() => rm(dir, { recursive: true, force: true }));

test('app://renderer/ serves the renderer folder with its content type', async () => {
  const page = await serveAppFile('app://renderer/', root);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('Content-Type'), 'text/html; charset=utf-8');
  assert.equal(page.headers.get('X-Content-Type-Options'), 'nosniff');
  const script = await serveAppFile('app://renderer/app.js', root);
  assert.equal(script.headers.get('Content-Type'), 'text/javascript; charset=utf-8');
});

test('nothing outside the renderer folder, on another host, or of an unknown type is served', async () => {
  for (const url of ['app://renderer/../secret.txt', 'app://renderer/%2e%2e/secret.txt', 'app://renderer/..%2fsecret.txt', 'app://other/index.html', 'app://renderer/missing.html', 'app://renderer/index.html.bak']) {
    assert.equal((await serveAppFile(url, root)).status, 404, url);
  }
});

test('windows are isolated and sandboxed, without Node', () => {
  assert.deepEqual(windowOptions('/app/out/preload/index.cjs').webPreferences, {
    preload: '/app/out/preload/index.cjs',
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    webSecurity: true,
  });
});

test('app pages cannot open pop-ups or navigate to other origins', () => {
  let openHandler: (() => { action: string }) | undefined;
  let navigationGuard: ((event: { preventDefault(): void }, url: string) => void) | undefined;
  keepToAppPages({
    setWindowOpenHandler: (handler: () => { action: string }) => void (openHandler = handler),
    on: (_event: string, listener: typeof navigationGuard) => void (navigationGuard = listener),
  } as never);
  assert.deepEqual(openHandler?.(), { action: 'deny' });
  const prevented = (url: string) => {
    let result = false;
    navigationGuard?.({ preventDefault: () => void (result = true) }, url);
    return result;
  };
  assert.equal(prevented('https://evil.example/'), true);
  assert.equal(prevented('app://renderer/index.html'), false);
});

test('every permission request of a page is refused', () => {
  let handler: ((webContents: unknown, permission: string, answer: (granted: boolean) => void) => void) | undefined;
  refusePermissionRequests({ setPermissionRequestHandler: (h: typeof handler) => void (handler = h) } as never);
  const answers: boolean[] = [];
  for (const permission of ['media', 'notifications', 'geolocation']) handler?.({}, permission, (granted) => answers.push(granted));
  assert.deepEqual(answers, [false, false, false]);
});
