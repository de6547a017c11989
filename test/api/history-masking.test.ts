import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { LOCAL_OWNER } from '../../backend/src/auth/caller.js';
import { createHistory, historyAccessOf } from '../../backend/src/store/history.js';
import { testStorage } from '../helpers/postgres.js';
import { filesHolding, heldAtRest } from '../helpers/raw-scan.js';
import { startTestStore, type TestStore } from '../helpers/store.js';
import { startTeam, type Team } from '../helpers/team.js';

const MASK = '[masked]';
/** A value nothing else in the store holds by chance. */
const secret = (label: string) => `${label}${randomBytes(12).toString('hex')}`;

interface Entry {
  key: string;
  log: { request: { url: string; headers?: string; payload?: unknown }; response?: { headers?: string; payload?: unknown } };
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

function entry(url: string, requestHeaders: string, responseHeaders = 'Content-Type: application/json', payload?: string) {
  return {
    app: 'masking-test',
    log: {
      request: { url, method: 'POST', headers: requestHeaders, ...(payload === undefined ? {} : { payload }), startTime: 1 },
      response: { status: 200, statusText: 'OK', headers: responseHeaders, payload: '{"ok":true}', timings: { wait: 1 } },
    },
  };
}

/** A target that sets a cookie and a refresh token of its own and echoes the request's headers in its body. */
async function startCookieTarget(cookie: string, refresh: string) {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json', 'set-cookie': `sid=${cookie}; Path=/; HttpOnly`, 'x-refresh-token': refresh });
      response.end(JSON.stringify({ path: request.url, headers: request.headers }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const allEntries = async (store: TestStore) => (await json<{ items: Entry[] }>(await store.api('/history?type=user&limit=500'), 200)).items;

describe('history masking: every write path', () => {
  const cookie = secret('cookie');
  const refresh = secret('refresh');
  let store: TestStore;
  let target: Awaited<ReturnType<typeof startCookieTarget>>;
  before(async () => {
    store = await startTestStore();
    target = await startCookieTarget(cookie, refresh);
  });
  after(async () => {
    await store.stop();
    await target.close();
  });

  test('POST /history, batch/create, the proxy and a project run store no plaintext: through the API, the change feed, search and the data dir’s bytes', async () => {
    const secrets: string[] = [cookie, refresh];
    const keep = (value: string) => (secrets.push(value), value);
    const visible = secret('visible');

    // POST /history: request and response headers, a query parameter, a form body.
    const one = entry(
      `https://api.example.test/${visible}?page=1&access_token=${keep(secret('query'))}`,
      `Authorization: Bearer ${keep(secret('bearer'))}\nX-API-Key: ${keep(secret('apikey'))}\nCookie: sid=${keep(secret('sid'))}\nContent-Type: application/x-www-form-urlencoded`,
      `Content-Type: application/json\nSet-Cookie: session=${keep(secret('setcookie'))}; Path=/`,
      `user=ann&password=${keep(secret('form'))}`,
    );
    await json(await store.api('/history', { method: 'POST', body: one }), 201);

    // batch/create.
    await json(
      await store.api('/history/batch/create', {
        method: 'POST',
        body: [
          entry('https://api.example.test/batch', `Proxy-Authorization: Basic ${keep(secret('basic'))}\nX-Client-Secret: ${keep(secret('client'))}`),
          entry('https://api.example.test/batch', `My-Password: ${keep(secret('password'))}`, `X-Session-Token: ${keep(secret('session'))}`),
        ],
      }),
      200,
    );

    // The proxy: the target echoes the request's headers in its body and sets a cookie.
    const proxied = await json<{ history: { key: string } }>(
      await store.api('/proxy', {
        method: 'POST',
        body: {
          url: `${target.url}/login?api_key=${keep(secret('proxyquery'))}`,
          method: 'POST',
          headers: [['Authorization', `Bearer ${keep(secret('proxybearer'))}`], ['X-Api-Key', keep(secret('proxykey'))], ['Cookie', `sid=${keep(secret('proxycookie'))}`]],
          body: 'hello',
        },
      }),
      200,
    );
    assert.ok(proxied.history.key);

    // A project run: its variables come with the run, so only history could keep them.
    const runToken = keep(secret('runtoken'));
    const runKey = keep(secret('runkey'));
    const project = {
      kind: 'Core#HttpProject',
      info: { name: 'masked run' },
      items: [{ kind: 'Core#ProjectRequest', key: 'r1' }],
      definitions: {
        requests: [{ kind: 'Core#ProjectRequest', key: 'r1', info: { name: 'r1' }, expects: { kind: 'Core#HttpRequest', url: `${target.url}/run`, method: 'GET', headers: 'Authorization: Bearer {{token}}\nX-Api-Key: {{key}}' } }],
        folders: [],
        environments: [],
      },
    };
    const pid = (await json<{ key: string }>(await store.api('/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#HttpProject', info: { name: 'masked run' } }, media: project } }), 201)).key;
    const run = await store.api('/proxy', { method: 'POST', body: { kind: 'Core#HttpProject', pid, options: { variables: { token: runToken, key: runKey } } } });
    assert.equal(run.status, 200);
    assert.match(await run.text(), /"summary"/);

    const entries = await allEntries(store);
    assert.equal(entries.length, 5);
    const stored = JSON.stringify(entries);
    for (const value of secrets) assert.ok(!stored.includes(value), `${value} is not in any entry read back`);
    assert.ok(stored.includes(visible), 'the rest of the entry is kept');
    const posted = entries.find((item) => item.log.request.url.includes(visible))!;
    assert.equal(posted.log.request.headers, `Authorization: ${MASK}\nX-API-Key: ${MASK}\nCookie: ${MASK}\nContent-Type: application/x-www-form-urlencoded`);
    assert.equal(posted.log.response?.headers, `Content-Type: application/json\nSet-Cookie: ${MASK}`);
    assert.equal(posted.log.request.url, `https://api.example.test/${visible}?page=1&access_token=${MASK}`);
    assert.equal(posted.log.request.payload, `user=ann&password=${MASK}`);
    const fromProxy = entries.find((item) => item.key === proxied.history.key)!;
    assert.match(fromProxy.log.request.headers ?? '', /^Authorization: \[masked\]$/m);
    assert.match(fromProxy.log.response?.headers ?? '', /^set-cookie: \[masked\]$/m);
    assert.match(fromProxy.log.response?.headers ?? '', /^x-refresh-token: \[masked\]$/m);

    for (const value of secrets) {
      const found = await json<{ items: Entry[] }>(await store.api(`/history?type=user&query=${value}`), 200);
      assert.deepEqual(found.items, [], `a search for ${value} finds nothing`);
    }
    const feed = JSON.stringify(await json(await store.api('/changes?since=0&limit=500'), 200));
    for (const value of secrets) assert.ok(!feed.includes(value), `${value} is not in the change feed`);

    // What the store holds at rest while it runs (the LevelDB log), and after it closed.
    const running = await heldAtRest(store, [...secrets, visible]);
    assert.ok(running.includes(visible), 'the scan reads the stored entries');
    assert.deepEqual(running, [visible], 'no plaintext secret at rest');
    await store.running.stop();
    const closed = await filesHolding(store.dataDir, [...secrets, visible]);
    assert.deepEqual([...closed.keys()], testStorage === 'postgres' ? [] : [visible], 'no plaintext secret in any file after the store closed');
    store = await startTestStore({ dataDir: store.dataDir, token: store.token });
  });
});

describe('history masking: secret values passed by the store', () => {
  let store: TestStore;
  before(async () => (store = await startTestStore()));
  after(() => store.stop());

  test('each given secret value is masked wherever it occurs: URL, headers, bodies; none is in the data dir', async () => {
    const [first, second] = [secret('var'), secret('other')];
    const access = historyAccessOf(store.running.services.store.storage, LOCAL_OWNER);
    const given = entry(`https://api.example.test/items/${first}?q=${encodeURIComponent(`${second} x`)}`, `X-Plain: ${first}\nAccept: */*`, `X-Echo: ${second}`, `{"value":"${first}"}`);
    given.log.response.payload = `echo ${second} x`;
    const [created] = await createHistory(store.running.services.store, access, [given], { secretValues: [first, `${second} x`] });
    const read = await json<Entry>(await store.api(`/history/${created.key}`), 200);
    assert.equal(read.log.request.url, `https://api.example.test/items/${MASK}?q=${MASK}`);
    assert.equal(read.log.request.headers, `X-Plain: ${MASK}\nAccept: */*`);
    assert.equal(read.log.request.payload, `{"value":"${MASK}"}`);
    assert.equal(read.log.response?.payload, `echo ${MASK}`);
    assert.deepEqual(await heldAtRest(store, [first, `${second} x`]), []);
  });
});

describe('history masking: the setting', () => {
  let store: TestStore;
  before(async () => (store = await startTestStore()));
  after(() => store.stop());

  test('the owner reads and changes the patterns; entries written afterwards follow them, earlier ones stay as stored', async () => {
    const defaults = await json<{ patterns: string[]; parameters: boolean; always: string[]; marker: string }>(await store.api('/store/history-masking'), 200);
    assert.ok(defaults.patterns.includes('*api-key*') && defaults.patterns.includes('*token*'));
    assert.deepEqual([defaults.parameters, defaults.marker], [true, MASK]);
    assert.deepEqual([...defaults.always].sort(), ['authorization', 'cookie', 'proxy-authorization', 'set-cookie']);

    const earlier = await json<Entry>(await store.api('/history', { method: 'POST', body: entry('https://h.test/?sig=1', 'X-Internal-Id: before-change') }), 201);
    const changed = await json<{ patterns: string[]; parameters: boolean }>(
      await store.api('/store/history-masking', { method: 'PUT', body: { patterns: ['x-internal-*', 'sig'], parameters: false } }),
      200,
    );
    assert.deepEqual([changed.patterns, changed.parameters], [['x-internal-*', 'sig'], false]);
    assert.deepEqual((await json<{ patterns: string[] }>(await store.api('/store/history-masking'), 200)).patterns, ['x-internal-*', 'sig']);

    const later = await json<Entry>(
      await store.api('/history', { method: 'POST', body: entry('https://h.test/?sig=2', 'X-INTERNAL-ID: after-change\nX-Api-Key: no-longer-masked\nAuthorization: always-masked') }),
      201,
    );
    assert.equal(later.log.request.headers, `X-INTERNAL-ID: ${MASK}\nX-Api-Key: no-longer-masked\nAuthorization: ${MASK}`);
    assert.equal(later.log.request.url, 'https://h.test/?sig=2', 'parameters off: the query stays');
    assert.equal((await json<Entry>(await store.api(`/history/${earlier.key}`), 200)).log.request.headers, 'X-Internal-Id: before-change');

    // The setting is kept in the store: it survives a restart.
    await store.running.stop();
    store = await startTestStore({ dataDir: store.dataDir, token: store.token });
    assert.deepEqual((await json<{ patterns: string[] }>(await store.api('/store/history-masking'), 200)).patterns, ['x-internal-*', 'sig']);
  });

  test('bad settings are refused with validation_failed and change nothing', async () => {
    const before = await json(await store.api('/store/history-masking'), 200);
    for (const body of [{ patterns: [''] }, { patterns: 'x-*' }, { patterns: ['a\nb'] }, { patterns: Array.from({ length: 101 }, (_, i) => `p${i}`) }, { patterns: [], parameters: 'yes' }, {}]) {
      const problem = await json<{ code: string }>(await store.api('/store/history-masking', { method: 'PUT', body }), 400);
      assert.equal(problem.code, 'validation_failed', JSON.stringify(body));
    }
    assert.deepEqual(await json(await store.api('/store/history-masking'), 200), before);
  });
});

describe('history masking in a multi-user store', () => {
  let team: Team;
  before(async () => (team = await startTeam()));
  after(() => team.stop());

  test('attacker: a teammate who is not an admin cannot turn masking off, so their own secrets stay masked too', async () => {
    const { alice, admin } = team;
    // Alice reads the setting (she may know what is masked) and tries to empty the patterns.
    assert.equal((await team.call(alice, '/store/history-masking')).status, 200);
    const refused = await team.call(alice, '/store/history-masking', { method: 'PUT', body: { patterns: [], parameters: false } });
    assert.deepEqual([refused.status, refused.body.code], [403, 'admin_only']);
    // Nothing changed: an entry she writes next is still masked.
    const key = secret('alicekey');
    const written = await team.call(alice, '/history', { method: 'POST', body: entry(`https://h.test/?token=${key}`, `X-Api-Key: ${key}`) });
    assert.equal(written.status, 201);
    assert.equal(written.body.log.request.headers, `X-Api-Key: ${MASK}`);
    assert.equal(written.body.log.request.url, `https://h.test/?token=${MASK}`);
    assert.deepEqual(await heldAtRest(team.store, [key]), []);
    // The admin may change it.
    const changed = await team.call(admin, '/store/history-masking', { method: 'PUT', body: { patterns: ['*api-key*'] } });
    assert.deepEqual([changed.status, changed.body.patterns, changed.body.parameters], [200, ['*api-key*'], true]);
  });
});
