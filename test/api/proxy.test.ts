import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closedPort, startHttpTarget, type Listening } from '../helpers/proxy-targets.js';
import { startTestStore, type TestStore } from '../helpers/store.js';
import { startTeam, type Team } from '../helpers/team.js';

interface Result {
  request: { url: string; method: string };
  response?: { status: number; body: string; timings: { total: number } };
  error?: { code: string; message: string; variable?: string; timings: { total: number } };
  redirects: unknown[];
  history?: { key?: string; error?: { code: string } };
}

interface HistoryPage {
  items: { key: string; app: string; request?: string; log: { request: { url: string }; response?: { status: number }; error?: { code: string } } }[];
}

describe('POST /v1/proxy', () => {
  let store: TestStore;
  let target: Listening & { received: string[] };
  before(async () => {
    store = await startTestStore();
    target = await startHttpTarget();
  });
  after(async () => {
    await store.stop();
    await target.close();
  });

  const proxy = async (body: unknown) => {
    const res = await store.api('/proxy', { method: 'POST', body });
    assert.equal(res.status, 200);
    return (await res.json()) as Result;
  };
  const historyOf = async (request: string) => ((await (await store.api(`/history?type=request&id=${encodeURIComponent(request)}`)).json()) as HistoryPage).items;

  test('the simple shape: the local owner calls a loopback service', async () => {
    const result = await proxy({ url: `${target.url}/echo?x=1`, method: 'put', headers: { 'x-app': 'client' }, history: false });
    assert.equal(result.response?.status, 200);
    const seen = JSON.parse(result.response?.body ?? '') as { method: string; path: string; headers: Record<string, string> };
    assert.deepEqual([seen.method, seen.path, seen.headers['x-app']], ['PUT', '/echo?x=1', 'client']);
    assert.equal(typeof result.response?.timings.total, 'number');
  });

  test("core's Core#HttpRequest body with variables, written to history with the request it came from", async () => {
    const result = await proxy({
      kind: 'Core#HttpRequest',
      request: { url: '{{base}}/echo', method: 'POST', headers: 'content-type: text/plain', payload: 'hello ${who}' },
      variables: { base: target.url, who: 'world' },
      config: { enabled: true, timeout: 5000, followRedirects: true },
      from: { app: 'desktop', request: 'req-1' },
    });
    assert.equal(result.response?.status, 200);
    assert.equal(Buffer.from((JSON.parse(result.response?.body ?? '') as { body: string }).body, 'base64').toString(), 'hello world');
    const [entry] = await historyOf('req-1');
    assert.equal(entry.key, result.history?.key);
    assert.equal(entry.app, 'desktop');
    assert.equal(entry.log.request.url, `${target.url}/echo`);
    assert.equal(entry.log.response?.status, 200);
  });

  test('history: false writes no entry', async () => {
    const result = await proxy({ kind: 'Core#HttpRequest', request: { url: `${target.url}/echo` }, history: false, from: { request: 'req-quiet' } });
    assert.equal(result.response?.status, 200);
    assert.equal(result.history, undefined);
    assert.deepEqual(await historyOf('req-quiet'), []);
  });

  test('a failure of the target is a 200 result with a stable code and timings, kept in history', async () => {
    const result = await proxy({ kind: 'Core#HttpRequest', request: { url: `http://127.0.0.1:${await closedPort()}/` }, from: { request: 'req-refused' } });
    assert.equal(result.error?.code, 'connection_refused');
    assert.equal(typeof result.error?.timings.total, 'number');
    assert.equal(result.response, undefined);
    const [entry] = await historyOf('req-refused');
    assert.equal(entry.log.error?.code, 'connection_refused');
    assert.equal(entry.log.response, undefined);
  });

  test('an unknown variable is unknown_variable naming it; nothing is sent or recorded', async () => {
    const before = target.received.length;
    const result = await proxy({ kind: 'Core#HttpRequest', request: { url: `${target.url}/{{nope}}` }, from: { request: 'req-unknown' } });
    assert.equal(result.error?.code, 'unknown_variable');
    assert.equal(result.error?.variable, 'nope');
    assert.equal(target.received.length, before);
    assert.deepEqual(await historyOf('req-unknown'), []);
  });

  test('invalid requests are 400 validation_failed', async () => {
    for (const bad of [
      { url: 'file:///etc/passwd' },
      { url: 'not a url' },
      { url: `${target.url}/`, headers: { 'bad header': 'x' } },
      { url: `${target.url}/`, headers: { ok: 'a\r\nb' } },
      { kind: 'Core#HttpRequest', request: { url: `${target.url}/`, payload: { type: 'formdata', data: [] } } },
      { kind: 'Core#HttpRequest', request: { url: `${target.url}/` }, authorization: { type: 'ntlm', enabled: true, config: {} } },
      { kind: 'Core#HttpRequest', request: { url: `${target.url}/` }, config: { proxy: 'socks5://127.0.0.1:1080' } },
    ]) {
      const res = await store.api('/proxy', { method: 'POST', body: bad });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(((await res.json()) as { code: string }).code, 'validation_failed');
    }
  });
});

describe('POST /v1/proxy on a shared store', () => {
  let team: Team;
  let target: Listening & { received: string[] };
  before(async () => {
    team = await startTeam();
    target = await startHttpTarget();
  });
  after(async () => {
    await team.stop();
    await target.close();
  });

  test('a teammate is refused loopback targets (target_forbidden, nothing sent); the admin reaches them', async () => {
    const before = target.received.length;
    const refused = await team.call(team.alice, '/proxy', { method: 'POST', body: { kind: 'Core#HttpRequest', request: { url: `${target.url}/echo` } } });
    assert.equal(refused.status, 200);
    assert.equal(refused.body.error.code, 'target_forbidden');
    assert.equal(target.received.length, before);
    const allowed = await team.call(team.admin, '/proxy', { method: 'POST', body: { url: `${target.url}/echo` } });
    assert.equal(allowed.body.response.status, 200);
  });
});

test("a history attachment the caller may not use does not hide the response (teammates allowed private targets)", async () => {
  const team = await startTeam({ proxy: { allowPrivateTargets: true } });
  const target = await startHttpTarget();
  try {
    const project = await team.call(team.alice, '/files', { method: 'POST', body: { kind: 'Core#HttpProject', info: { name: 'alice only' } } });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    const result = await team.call(team.bob, '/proxy', { method: 'POST', body: { url: `${target.url}/echo`, from: { project: project.body.key } } });
    assert.equal(result.body.response.status, 200);
    assert.equal(result.body.history.error.code, 'file_not_found');
  } finally {
    await team.stop();
    await target.close();
  }
});
