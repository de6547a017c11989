import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { contentSecurityPolicy, serveAppFile } from '../../main/app-protocol.js';
import { keepToAppPages, restrictPermissions, windowOptions } from '../../main/window.js';

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

test('nothing outside the renderer folder, on another host, of an unknown type or with a malformed path is served', async () => {
  for (const url of ['app://renderer/../secret.txt', 'app://renderer/%2e%2e/secret.txt', 'app://renderer/..%2fsecret.txt', 'app://other/index.html', 'app://renderer/missing.html', 'app://renderer/index.html.bak', 'app://renderer/%', 'app://renderer/%E0%A4%A.html', 'app://renderer/index%zz.html']) {
    assert.equal((await serveAppFile(url, root)).status, 404, url);
  }
});

test('every app:// response, pages, scripts and errors alike, carries the policy with frame-ancestors \'none\'', async () => {
  for (const url of ['app://renderer/', 'app://renderer/app.js', 'app://renderer/missing.html', 'app://renderer/%', 'app://other/']) {
    const response = await serveAppFile(url, root);
    assert.equal(response.headers.get('Content-Security-Policy'), contentSecurityPolicy, url);
  }
  assert.match(contentSecurityPolicy, /(^|; )frame-ancestors 'none'(;|$)/);
  // The header says at least what the page's own <meta> says, so neither is looser than the other.
  const page = await readFile(new URL('../../renderer-stub/index.html', import.meta.url), 'utf8');
  const meta = page.match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)?.[1];
  assert.ok(meta);
  for (const directive of meta.split(/;\s*/)) assert.ok(contentSecurityPolicy.split('; ').includes(directive), directive);
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

test('permission checks and device requests are refused; a request is granted only for local network access from app://renderer', () => {
  type RequestHandler = (webContents: unknown, permission: string, answer: (granted: boolean) => void, details: { requestingUrl: string }) => void;
  let request: RequestHandler | undefined;
  let check: ((webContents: unknown, permission: string, origin: string) => boolean) | undefined;
  let device: ((details: unknown) => boolean) | undefined;
  restrictPermissions({
    setPermissionRequestHandler: (h: RequestHandler) => void (request = h),
    setPermissionCheckHandler: (h: typeof check) => void (check = h),
    setDevicePermissionHandler: (h: typeof device) => void (device = h),
  } as never);
  const granted = (permission: string, requestingUrl: string) => {
    let answer: boolean | undefined;
    request?.({}, permission, (value) => (answer = value), { requestingUrl });
    return answer;
  };
  for (const permission of ['media', 'notifications', 'geolocation', 'openExternal', 'clipboard-read']) assert.equal(granted(permission, 'app://renderer/index.html'), false, permission);
  for (const permission of ['local-network-access', 'local-network', 'loopback-network']) {
    assert.equal(granted(permission, 'app://renderer/index.html'), true, permission);
    for (const other of ['https://evil.example/', 'app://other/index.html', 'file:///index.html', 'not a url']) assert.equal(granted(permission, other), false, `${permission} for ${other}`);
  }
  for (const permission of ['media', 'local-network-access', 'hid', 'usb']) assert.equal(check?.({}, permission, 'app://renderer'), false, permission);
  for (const deviceType of ['hid', 'serial', 'usb']) assert.equal(device?.({ deviceType, origin: 'app://renderer' }), false, deviceType);
});
