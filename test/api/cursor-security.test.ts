import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import type { SignedInUser } from '../helpers/accounts.js';
import { startTeam, type Team } from '../helpers/team.js';

/**
 * Cursors as a hostile teammate uses them: a cursor taken from one list, or from another user, or
 * issued for other filters, resumes nothing but a 400 `invalid_cursor`; and a list page stays
 * within its byte budget.
 */

type Json = Record<string, any>;

async function ok(team: Team, user: SignedInUser, path: string, init: Parameters<Team['call']>[2] = {}): Promise<Json> {
  const { status, body } = await team.call(user, path, init);
  assert.ok(status >= 200 && status < 300, `${init.method ?? 'GET'} ${path}: ${status} ${JSON.stringify(body)}`);
  return body;
}

const withQuery = (path: string, query: string) => `${path}${path.includes('?') ? '&' : '?'}${query}`;

async function createFile(team: Team, user: SignedInUser, name: string, options: { kind?: string; parent?: string; media?: unknown; extra?: Json } = {}) {
  const query = new URLSearchParams();
  if (options.parent) query.set('parent', options.parent);
  if (options.media !== undefined) query.set('alt', 'media');
  const meta = { kind: options.kind ?? 'Core#HttpProject', info: { name }, ...options.extra };
  return ok(team, user, `/files?${query}`, { method: 'POST', body: options.media === undefined ? meta : { meta, media: options.media } });
}

/** The smallest contents a Core#HttpProject accepts (its contents are a project document). */
const projectDocument = (extra: Json = {}) => ({ kind: 'Core#HttpProject', info: { name: 'p' }, items: [], definitions: {}, ...extra });

const historyEntry = (url: string, extra: Json = {}) => ({
  app: 'app1',
  log: { request: { url, method: 'GET', headers: '', startTime: 1 }, response: { status: 200, statusText: 'OK', headers: '', timings: {} } },
  ...extra,
});

async function expectInvalidCursor(team: Team, user: SignedInUser, path: string, cursor: string, why: string): Promise<void> {
  const { status, body } = await team.call(user, withQuery(path, `cursor=${encodeURIComponent(cursor)}`));
  assert.equal(status, 400, `${why}: ${path} answered ${status} ${JSON.stringify(body).slice(0, 300)}`);
  assert.equal(body.code, 'invalid_cursor', why);
}

/** Every list route of the store, as `caller` sees it, each with enough data for a cursor at limit=1. */
interface ListRoute {
  name: string;
  /** The route itself: a path without query is the same route with no filter stated. */
  route: string;
  path: string;
}

async function seedLists(team: Team, caller: SignedInUser, other: SignedInUser): Promise<ListRoute[]> {
  const withMedia = await createFile(team, caller, 'with media', { media: projectDocument() });
  for (const version of [1, 2]) await ok(team, caller, `/files/${withMedia.key}?alt=media`, { method: 'PUT', body: projectDocument({ version }) });
  const plain = await createFile(team, caller, 'plain', { media: projectDocument() });
  for (const version of [1, 2]) await ok(team, caller, `/files/${plain.key}?alt=media`, { method: 'PUT', body: projectDocument({ version }) });
  const space = await createFile(team, caller, 'space', { kind: 'Core#Space' });
  for (const name of ['child 1', 'child 2']) await createFile(team, caller, name, { parent: space.key });
  for (const name of ['trashed 1', 'trashed 2']) {
    const doomed = await createFile(team, caller, name);
    await ok(team, caller, `/files/${doomed.key}`, { method: 'DELETE' });
  }
  for (const name of ['shared 1', 'shared 2']) {
    const file = await createFile(team, other, name);
    await ok(team, other, `/files/${file.key}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: caller.key, value: 'reader' }] });
  }
  await ok(team, caller, '/history/batch/create', { method: 'POST', body: [historyEntry('https://a.example.test/1'), historyEntry('https://a.example.test/2')] });
  for (const collection of ['projects', 'requests']) {
    await ok(team, caller, `/app/A/${collection}/batch/create`, { method: 'POST', body: [{ info: { name: 'match 1' } }, { info: { name: 'match 2' } }] });
  }
  // A second session of the caller, for the sessions list.
  await ok(team, caller, '/sessions', { method: 'POST', token: null, body: { username: 'admin', password: 'admin password' } });
  return [
    { name: 'files', route: '/files', path: '/files' },
    { name: 'files by kind', route: '/files', path: '/files?kind=Core%23HttpProject' },
    { name: 'files of a space', route: '/files', path: `/files?parent=${space.key}` },
    { name: 'files since', route: '/files', path: '/files?since=0' },
    { name: 'files by query', route: '/files', path: '/files?query=child' },
    { name: 'revisions', route: `/files/${withMedia.key}/revisions`, path: `/files/${withMedia.key}/revisions` },
    { name: 'revisions of another file', route: `/files/${plain.key}/revisions`, path: `/files/${plain.key}/revisions` },
    { name: 'shared', route: '/shared', path: '/shared' },
    { name: 'trash', route: '/trash', path: '/trash' },
    { name: 'users', route: '/users', path: '/users' },
    { name: 'sessions', route: '/sessions', path: `/sessions?user=${caller.key}` },
    { name: 'history', route: '/history', path: '/history' },
    { name: 'history of an app', route: '/history', path: '/history?type=app&id=app1' },
    { name: 'history since', route: '/history', path: '/history?since=0' },
    { name: 'projects', route: '/app/A/projects', path: '/app/A/projects' },
    { name: 'projects since', route: '/app/A/projects', path: '/app/A/projects?since=0' },
    { name: 'projects query', route: '/app/A/projects/query', path: '/app/A/projects/query?query=match' },
    { name: 'requests', route: '/app/A/requests', path: '/app/A/requests' },
    { name: 'requests since', route: '/app/A/requests', path: '/app/A/requests?since=0' },
    { name: 'requests query', route: '/app/A/requests/query', path: '/app/A/requests/query?query=match' },
    { name: 'changes', route: '/changes', path: '/changes' },
    { name: 'changes of a path', route: '/changes', path: '/changes?since=0&path=/files' },
  ];
}

describe('cursors are bound to their list, their caller and their filters', () => {
  let team: Team;
  before(async () => {
    team = await startTeam();
  });
  after(() => team.stop());

  test('finding 1: a /changes cursor on another app’s request query reveals no one’s records', async () => {
    const { alice, bob } = team;
    await ok(team, bob, '/app/client/requests', {
      method: 'POST',
      body: { info: { name: 'bob’s request' }, expects: { url: 'https://api.example.test', method: 'GET', headers: 'Authorization: Bearer bob-secret' } },
    });
    await ok(team, alice, '/app/client/requests', { method: 'POST', body: { info: { name: 'alice’s request' } } });
    const changes = await ok(team, alice, '/changes?since=0&limit=1');
    assert.ok(changes.cursor, 'the feed has more than one change');
    for (const app of ['anything', 'client']) {
      const { status, body } = await team.call(alice, `/app/${app}/requests/query?cursor=${encodeURIComponent(changes.cursor)}`);
      assert.ok(!JSON.stringify(body).includes('bob-secret'), 'bob’s stored header stays his');
      assert.equal(status, 400, JSON.stringify(body).slice(0, 300));
      assert.equal(body.code, 'invalid_cursor');
    }
  });

  test('finding 1: no /users cursor lists another user’s trash', async () => {
    const { alice, bob } = team;
    const bobs = [];
    for (const name of ['bob trashed 1', 'bob trashed 2']) {
      const file = await createFile(team, bob, name);
      await ok(team, bob, `/files/${file.key}`, { method: 'DELETE' });
      bobs.push(file.key);
    }
    let cursor: string | undefined;
    let tried = 0;
    do {
      const page = await ok(team, alice, `/users?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      cursor = page.cursor;
      if (!cursor) break;
      const { status, body } = await team.call(alice, `/trash?cursor=${encodeURIComponent(cursor)}`);
      assert.ok(!bobs.some((key) => JSON.stringify(body).includes(key)), 'bob’s trash stays his');
      assert.equal(status, 400, JSON.stringify(body).slice(0, 300));
      assert.equal(body.code, 'invalid_cursor');
      tried++;
    } while (cursor);
    assert.ok(tried >= 3, 'every account gave a cursor');
  });

  test('cursor swap: every list’s cursor on every other list, by another user, and with other filters is a 400', async () => {
    const { admin, alice, bob } = team;
    const lists = await seedLists(team, admin, alice);
    const cursors = new Map<string, string>();
    for (const list of lists) {
      const page = await ok(team, admin, withQuery(list.path, 'limit=1'));
      // A feed page scans `limit` changes and shows those the caller may see: it may be empty.
      if (list.route !== '/changes') assert.equal(page.items.length, 1, list.name);
      assert.ok(page.cursor, `${list.name} has a next page`);
      cursors.set(list.name, page.cursor);
      // Opaque: no user key, nor any index key, reads out of a cursor.
      const decoded = Buffer.from(page.cursor, 'base64url').toString('latin1');
      for (const user of [admin, alice, bob]) assert.ok(!decoded.includes(user.key) && !page.cursor.includes(user.key), `${list.name} cursor shows a user key`);
      // The cursor does resume its own list.
      await ok(team, admin, withQuery(list.path, `limit=1&cursor=${encodeURIComponent(page.cursor)}`));
    }
    let swaps = 0;
    for (const from of lists) {
      for (const to of lists) {
        // A cursor alone (no filter stated) continues its own list by design.
        if (from === to || (from.route === to.route && to.path === to.route)) continue;
        await expectInvalidCursor(team, admin, to.path, cursors.get(from.name)!, `the ${from.name} cursor on ${to.name}`);
        swaps++;
      }
    }
    assert.ok(swaps > 400, `${swaps} swaps tried`);
    // The sessions list is the admin's alone: a teammate gets a 403 there before any cursor is read.
    for (const list of lists.filter(({ route }) => route !== '/sessions')) {
      for (const teammate of [alice, bob]) await expectInvalidCursor(team, teammate, list.path, cursors.get(list.name)!, `the admin’s ${list.name} cursor used by a teammate`);
    }
    const otherFilters: [string, string][] = [
      ['files', '/files?kind=Core%23Space'],
      ['files by kind', '/files?kind=Core%23Space'],
      ['files of a space', `/files?parent=${lists[2].path.split('=')[1]}&query=x`],
      ['files since', '/files?since=1'],
      ['files by query', '/files?query=f'],
      ['history', '/history?type=user&query=x'],
      ['history of an app', '/history?type=app&id=app2'],
      ['history since', '/history?since=1'],
      ['projects', '/app/B/projects'],
      ['projects since', '/app/A/projects?since=1'],
      ['projects query', '/app/A/projects/query?query=other'],
      ['requests query', '/app/B/requests/query?query=match'],
      ['changes', '/changes?path=/history'],
      ['changes of a path', '/changes?path=/app/A/projects'],
      ['sessions', `/sessions?user=${alice.key}`],
    ];
    for (const [name, path] of otherFilters) await expectInvalidCursor(team, admin, path, cursors.get(name)!, `the ${name} cursor on ${path}`);
  });

  test('finding 7: a cursor whose position is an object, array or number is a 400, not a 500', async () => {
    const { alice } = team;
    const file = await createFile(team, alice, 'revised', { media: projectDocument({ v: 0 }) });
    for (const v of [1, 2]) await ok(team, alice, `/files/${file.key}?alt=media`, { method: 'PUT', body: projectDocument({ v }) });
    const { cursors } = team.store.running.services;
    for (const route of ['/shared', `/files/${file.key}/revisions`]) {
      for (const position of [{ after: 'x' }, ['x'], 7, null, '']) {
        // Sealed by the store's own key for this very list and caller: only its shape is wrong.
        const cursor = cursors.open({ route, user: alice.key }, z.unknown(), { limit: 1, filters: {} }).body([], position).cursor;
        assert.ok(cursor);
        await expectInvalidCursor(team, alice, route, cursor, `${route} with position ${JSON.stringify(position)}`);
      }
    }
  });

  test('a position sealed for the caller’s own list but pointing outside its range reads nothing outside it', async () => {
    const { alice, bob } = team;
    const bobsTrash = await createFile(team, bob, 'bob’s trashed secret');
    await ok(team, bob, `/files/${bobsTrash.key}`, { method: 'DELETE' });
    await ok(team, bob, '/history', { method: 'POST', body: historyEntry('https://bob.example.test/secret') });
    const { cursors } = team.store.running.services;
    for (const route of ['/trash', '/history', '/shared', '/app/A/projects']) {
      for (const position of ['\0', ' ', bob.key, `${bob.key}\u0001`, '~', '\uffff']) {
        const cursor = cursors.open({ route, user: alice.key }, z.string(), { limit: 1, filters: route === '/history' ? { type: 'user' } : {} }).body([], position).cursor!;
        const { status, body } = await team.call(alice, `${route}?limit=500&cursor=${encodeURIComponent(cursor)}`);
        assert.equal(status, 200, JSON.stringify(body));
        const text = JSON.stringify(body);
        assert.ok(!text.includes('bob’s trashed secret') && !text.includes('bob.example.test'), `${route} after ${JSON.stringify(position)}: ${text.slice(0, 200)}`);
        assert.ok(body.items.every((item: Json) => item.user === undefined || item.user === alice.key));
      }
    }
  });
});

describe('list pages are bounded in bytes as well as in items', () => {
  const pageBytes = 8 * 1024;
  let team: Team;
  before(async () => {
    team = await startTeam({ limits: { pageBytes } });
  });
  after(() => team.stop());

  /** Every page of a list at limit 500, each checked against the byte budget. */
  async function pages(user: SignedInUser, path: string): Promise<Json[][]> {
    const all: Json[][] = [];
    let cursor: string | undefined;
    do {
      const page = await ok(team, user, withQuery(path, `limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
      // A feed page may be empty (it scans changes the caller may not see); any other page progresses.
      assert.ok(page.items.length >= 1 || path.startsWith('/changes'), `${path}: a page always progresses`);
      const bytes = page.items.reduce((sum: number, item: Json) => sum + Buffer.byteLength(JSON.stringify(item)), 0);
      assert.ok(page.items.length === 1 || bytes <= pageBytes, `${path}: ${page.items.length} items of ${bytes} bytes`);
      all.push(page.items);
      cursor = page.cursor;
    } while (cursor);
    return all;
  }

  test('a page of large items comes back short with a cursor; a single item larger than the budget still comes', async () => {
    const { alice } = team;
    const filler = (size: number) => 'x'.repeat(size);
    for (let i = 0; i < 6; i++) await createFile(team, alice, `big ${i}`, { extra: { info: { name: `big ${i}`, description: filler(3000) } } });
    await createFile(team, alice, 'huge', { extra: { body: filler(3 * pageBytes) } });
    await ok(team, alice, '/app/A/projects/batch/create', { method: 'POST', body: Array.from({ length: 6 }, (_, i) => ({ info: { name: `p${i}` }, body: filler(3000) })) });
    await ok(team, alice, '/history/batch/create', { method: 'POST', body: Array.from({ length: 6 }, (_, i) => historyEntry(`https://a.example.test/${i}?${filler(3000)}`)) });

    // The root lists in key order, so the huge file may come anywhere: it always has a page of its own.
    const files = await pages(alice, '/files');
    assert.ok(files.length >= 4, `${files.length} pages`);
    assert.ok(files.some((page) => page.length === 1 && page[0].info.name === 'huge'));
    assert.equal(files.flat().length, 7);
    assert.equal(new Set(files.flat().map((file) => file.key)).size, 7, 'each file exactly once');
    for (const path of ['/app/A/projects', '/app/A/projects/query?query=p', '/history']) {
      const listed = await pages(alice, path);
      assert.deepEqual(listed.map((page) => page.length), [2, 2, 2], path);
      assert.equal(new Set(listed.flat().map((item) => item.key)).size, 6, `${path}: each item exactly once`);
    }
    const feed = (await pages(alice, '/changes?path=/files')).flat();
    assert.equal(feed.length, 7, 'the creates of the 7 files, over pages within the budget');
  });
});
