import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closedPort, startHttpTarget, type Listening } from '../helpers/proxy-targets.js';
import { startTestStore, type TestStore } from '../helpers/store.js';
import { startTeam } from '../helpers/team.js';

interface Line {
  type: 'request' | 'summary';
  key?: string;
  iteration?: number;
  result?: { request: { url: string; headers: [string, string][] }; response?: { status: number; body: string }; error?: { code: string } };
  requests?: number;
  byStatusClass?: Record<string, number>;
  failures?: number;
  bailed?: boolean;
  cancelled?: boolean;
}

const request = (key: string, url: string, method = 'GET', extra: Record<string, unknown> = {}) => ({
  kind: 'Core#ProjectRequest',
  key,
  info: { name: `request ${key}` },
  expects: { kind: 'Core#HttpRequest', url, method, headers: 'X-Token: {{token}}', ...extra },
});

/** A project: r1, then folder f1 holding r2, then r3; environment `local` points at `server`. */
function project(server: string, urls: [string, string, string]) {
  return {
    kind: 'Core#HttpProject',
    info: { name: 'pets' },
    items: [
      { kind: 'Core#ProjectRequest', key: 'r1' },
      { kind: 'Core#ProjectFolder', key: 'f1' },
      { kind: 'Core#ProjectRequest', key: 'r3' },
    ],
    definitions: {
      requests: [request('r1', urls[0]), request('r2', urls[1], 'POST', { payload: 'token={{token}}' }), request('r3', urls[2])],
      folders: [{ kind: 'Core#ProjectFolder', key: 'f1', info: { name: 'folder' }, items: [{ kind: 'Core#ProjectRequest', key: 'r2' }] }],
      environments: [
        { kind: 'Core#Environment', key: 'e1', info: { name: 'local' }, server: { uri: server }, variables: [{ name: 'token', value: 't-42', type: 'string', enabled: true }] },
      ],
    },
  };
}

const parseLines = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line) as Line);

describe('project runs through POST /v1/proxy', () => {
  let store: TestStore;
  let target: Listening & { received: string[]; release(): void };
  before(async () => {
    store = await startTestStore();
    target = await startHttpTarget();
  });
  after(async () => {
    await store.stop();
    await target.close();
  });

  async function storeProject(document: unknown): Promise<string> {
    const res = await store.api('/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#HttpProject', info: { name: 'pets' } }, media: document } });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    return (JSON.parse(text) as { key: string }).key;
  }

  test('requests run in project order with the environment\'s variables and server; NDJSON lines, then a summary', async () => {
    const pid = await storeProject(project(target.url, ['/echo?n=1', 'echo?n=2', `${target.url}/echo?n=3`]));
    const before = target.received.length;
    const res = await store.api('/proxy', { method: 'POST', body: { kind: 'Core#HttpProject', pid, options: { environment: 'local' } } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /ndjson/);
    const lines = parseLines(await res.text());
    assert.deepEqual(target.received.slice(before), ['GET /echo?n=1', 'POST /echo?n=2', 'GET /echo?n=3']);
    assert.deepEqual(lines.map((line) => line.type), ['request', 'request', 'request', 'summary']);
    assert.deepEqual(lines.slice(0, 3).map((line) => line.key), ['r1', 'r2', 'r3']);
    const echoed = JSON.parse(lines[1].result?.response?.body ?? '') as { headers: Record<string, string>; body: string };
    assert.equal(echoed.headers['x-token'], 't-42');
    assert.equal(Buffer.from(echoed.body, 'base64').toString(), 'token=t-42');
    const summary = lines[3];
    assert.deepEqual([summary.requests, summary.byStatusClass, summary.failures, summary.bailed, summary.cancelled], [3, { '2xx': 3 }, 0, false, false]);
    const history = (await (await store.api(`/history?type=project&id=${pid}`)).json()) as { items: unknown[] };
    assert.equal(history.items.length, 3, 'each sent request is in history, attached to the project');
  });

  test('bail stops at the first failure; without it the run goes on; iterations repeat the run', async () => {
    const refused = `http://127.0.0.1:${await closedPort()}/`;
    const pid = await storeProject(project(target.url, ['/echo?b=1', refused, '/echo?b=3']));
    const bailed = parseLines(await (await store.api('/proxy', { method: 'POST', body: { kind: 'Core#HttpProject', pid, history: false, options: { environment: 'e1', bail: true } } })).text());
    assert.deepEqual(bailed.map((line) => line.key ?? line.type), ['r1', 'r2', 'summary']);
    assert.equal(bailed[1].result?.error?.code, 'connection_refused');
    assert.equal(bailed[2].bailed, true);
    assert.ok(!target.received.includes('GET /echo?b=3'));
    const all = parseLines(await (await store.api('/proxy', { method: 'POST', body: { kind: 'Core#HttpProject', pid, history: false, options: { environment: 'e1', iterations: 2 } } })).text());
    assert.deepEqual(all.map((line) => `${line.key ?? line.type}${line.iteration ?? ''}`), ['r11', 'r21', 'r31', 'r12', 'r22', 'r32', 'summary']);
    assert.equal(all.at(-1)?.failures, 2);
  });

  test('a client that disconnects cancels the run: the request in flight is cancelled and the remaining ones are not sent', async () => {
    const pid = await storeProject(project(target.url, ['/hold', '/echo?c=2', '/echo?c=3']));
    const client = new AbortController();
    const running = store.api('/proxy', { method: 'POST', body: { kind: 'Core#HttpProject', pid, options: { environment: 'local' } }, signal: client.signal })
      .then((res) => res.text())
      .catch(() => 'aborted');
    while (!target.received.includes('GET /hold')) await new Promise((resolve) => setTimeout(resolve, 10));
    client.abort();
    await running;
    // The held request is never answered: only the store seeing its client gone ends it. It is
    // recorded, as every sent request is, and the run stops there.
    let items: { log: { error?: { code: string } } }[];
    do {
      await new Promise((resolve) => setTimeout(resolve, 10));
      ({ items } = (await (await store.api(`/history?type=project&id=${pid}`)).json()) as { items: typeof items });
    } while (!items.length);
    assert.equal(items[0].log.error?.code, 'cancelled');
    await store.api('/store');
    target.release();
    assert.ok(!target.received.some((line) => line.includes('?c=')), target.received.join(', '));
  });

  test('a run of a file that is not there, not a project, or without the environment is refused before anything is sent', async () => {
    const pid = await storeProject(project(target.url, ['/echo', '/echo', '/echo']));
    const note = await store.api('/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#Note', info: { name: 'note' } }, media: { items: [], definitions: {} } } });
    const before = target.received.length;
    for (const [body, status] of [
      [{ kind: 'Core#HttpProject', pid: 'missing' }, 404],
      [{ kind: 'Core#HttpProject', pid: ((await note.json()) as { key: string }).key }, 400],
      [{ kind: 'Core#HttpProject', pid, options: { environment: 'production' } }, 400],
    ] as const) {
      const res = await store.api('/proxy', { method: 'POST', body });
      assert.equal(res.status, status, await res.text());
    }
    assert.equal(target.received.length, before);
  });
});

test("a teammate runs only projects they can read: another's project is 404, and nothing is sent", async () => {
  const team = await startTeam({ proxy: { allowPrivateTargets: true } });
  const target = await startHttpTarget();
  try {
    const created = await team.call(team.alice, '/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#HttpProject', info: { name: 'alice' } }, media: project(target.url, ['/echo', '/echo', '/echo']) } });
    assert.equal(created.status, 201);
    const refused = await team.call(team.bob, '/proxy', { method: 'POST', body: { kind: 'Core#HttpProject', pid: created.body.key, options: { environment: 'local' } } });
    assert.equal(refused.status, 404);
    assert.equal(refused.body.code, 'file_not_found');
    assert.deepEqual(target.received, []);
    const own = await team.store.api('/proxy', { method: 'POST', token: team.alice.token, body: { kind: 'Core#HttpProject', pid: created.body.key, options: { environment: 'local' } } });
    assert.equal(parseLines(await own.text()).at(-1)?.requests, 3);
  } finally {
    await team.stop();
    await target.close();
  }
});
