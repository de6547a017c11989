import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { restoreBackup } from '../../backend/src/backup/restore.js';
import { backupsDirOf } from '../../backend/src/backup/snapshots.js';
import { LOCAL_OWNER } from '../../backend/src/auth/caller.js';
import { createHistory, historyAccessOf } from '../../backend/src/store/history.js';
import { migrations, type Migration } from '../../backend/src/store/migrations.js';
import { verifyStore } from '../../backend/src/store/verify.js';
import { populateStore } from '../helpers/populate.js';
import { makeTempDir, NewerStoreError, startTestStore } from '../helpers/store.js';
import { startTeam } from '../helpers/team.js';

const latestSchema = migrations.at(-1)!.version;

interface BackupInfo {
  name: string;
  size: number;
  created: number;
  reason: string;
}

test('POST /backups writes a snapshot into <dataDir>/backups (0700, files 0600) that restores to the same store; GET lists it', async (t) => {
  const store = await startTestStore();
  const work = await makeTempDir('api-store-backups-');
  t.after(() => Promise.all([store.stop(), rm(work, { recursive: true, force: true })]));
  await populateStore(store.running.services.store);
  // More lines than one chunk handed to gzip (see format.ts): 400 entries of about 1 KiB.
  const payload = 'x'.repeat(1024);
  const entries = Array.from({ length: 400 }, (_, i) => ({ log: { request: { url: `https://chunks.example.test/${i}`, method: 'POST', headers: 'content-type: text/plain', payload, startTime: i } } }));
  await createHistory(store.running.services.store, historyAccessOf(store.running.services.store.storage, LOCAL_OWNER), entries);
  const before = await verifyStore(store.running.services.store.storage);

  const response = await store.api('/backups', { method: 'POST' });
  assert.equal(response.status, 201);
  const made = (await response.json()) as BackupInfo;
  assert.equal(made.reason, 'manual');
  assert.match(made.name, /^api-store-\d{4}-\d\d-\d\dT[\d-]+Z-manual\.backup\.gz$/);
  const dir = backupsDirOf(store.dataDir);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  const file = await stat(join(dir, made.name));
  assert.equal(file.mode & 0o777, 0o600);
  assert.equal(file.size, made.size);

  const second = (await (await store.api('/backups', { method: 'POST' })).json()) as BackupInfo;
  assert.notEqual(second.name, made.name, 'two backups in one millisecond get two names');
  const listed = (await (await store.api('/backups')).json()) as { items: BackupInfo[] };
  assert.deepEqual(listed.items.map((item) => item.name).sort(), [made.name, second.name].sort());
  assert.ok(listed.items.every((item) => item.size > 0 && item.created > 0));

  const restored = await restoreBackup(join(dir, made.name), join(work, 'restored'));
  assert.deepEqual(restored, before, 'the restored store is the store, record for record');

  const spec = (await (await store.api('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
  assert.ok(spec.paths['/backups']?.post && spec.paths['/backups']?.get, 'documented in openapi.json');
});

test('multi-user: the admin backs up and lists; a teammate gets 403 admin_only for both', async (t) => {
  const team = await startTeam();
  t.after(() => team.stop());
  const made = await team.call(team.admin, '/backups', { method: 'POST' });
  assert.equal(made.status, 201);
  for (const init of [{ method: 'POST' }, { method: 'GET' }]) {
    const refused = await team.call(team.alice, '/backups', init);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'admin_only');
    assert.match(refused.headers.get('content-type') ?? '', /problem\+json/);
  }
  const listed = await team.call(team.admin, '/backups');
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.items.map((item: BackupInfo) => item.name), [made.body.name]);
});

test('daily backups: one per day of the injected clock, the last `backups.keep` kept, manual ones apart', async (t) => {
  let now = Date.UTC(2026, 0, 1);
  const store = await startTestStore({ backups: { keep: 7 } }, { clock: () => now });
  t.after(() => store.stop());
  const { backups } = store.running.services;
  assert.equal((await store.api('/backups', { method: 'POST' })).status, 201);

  const first = await backups.checkDaily();
  assert.equal(first?.reason, 'daily');
  now += 23 * 60 * 60 * 1000;
  assert.equal(await backups.checkDaily(), undefined, 'less than a day later: none');
  const taken = [first!.name];
  for (let day = 0; day < 9; day++) {
    now += 24 * 60 * 60 * 1000;
    taken.push((await backups.checkDaily())!.name);
  }
  const listed = (await (await store.api('/backups')).json()) as { items: BackupInfo[] };
  const daily = listed.items.filter((item) => item.reason === 'daily').map((item) => item.name);
  assert.deepEqual(daily, taken.slice(-7).reverse(), 'the newest seven, newest first');
  assert.equal(listed.items.filter((item) => item.reason === 'manual').length, 1, 'the manual backup stays');
  assert.deepEqual(listed.items.map((item) => item.created), [...listed.items.map((item) => item.created)].sort((a, b) => b - a));
});

test('a schema migration is preceded by a backup that restores the store as it was; the migrated store is refused by the older code', async (t) => {
  const first = await startTestStore();
  const work = await makeTempDir('api-store-migration-');
  t.after(() => Promise.all([rm(first.dataDir, { recursive: true, force: true }), rm(work, { recursive: true, force: true })]));
  await populateStore(first.running.services.store);
  const before = await verifyStore(first.running.services.store.storage);
  await first.stop({ keepData: true });

  const current = migrations.at(-1)!.version;
  const next: Migration = {
    version: current + 1,
    description: 'a test migration',
    up: (storage) => storage.write([{ type: 'put', section: 'meta', key: 'migrated', value: true }]),
  };
  const upgraded = await startTestStore({ dataDir: first.dataDir }, { migrations: [...migrations, next] });
  const listed = (await (await upgraded.api('/backups')).json()) as { items: BackupInfo[] };
  assert.deepEqual(listed.items.map((item) => item.reason), [`before-schema-${current + 1}`]);
  assert.equal(await upgraded.running.services.store.storage.get('meta', 'schemaVersion'), current + 1);
  await upgraded.stop({ keepData: true });

  await assert.rejects(startTestStore({ dataDir: first.dataDir }), NewerStoreError, 'the older code refuses the newer schema');
  const restored = await restoreBackup(join(backupsDirOf(first.dataDir), listed.items[0].name), join(work, 'undone'));
  assert.deepEqual(restored, before, 'the upgrade is undone by restoring the backup taken before it');
  const again = await startTestStore({ dataDir: join(work, 'undone') });
  assert.equal(await again.running.services.store.storage.get('meta', 'schemaVersion'), current);
  await again.stop({ keepData: true });
});

test('a store of schema 1 is backed up before its migrations (per-user history counts, search indexes) run, and verifies clean after', async (t) => {
  const first = await startTestStore();
  t.after(() => rm(first.dataDir, { recursive: true, force: true }));
  const storage = first.running.services.store.storage;
  await populateStore(first.running.services.store);
  // As a schema-1 store was: no per-user counts.
  const counts: string[] = [];
  for await (const user of storage.keys('history-counts')) counts.push(user);
  await storage.write([{ type: 'put', section: 'meta', key: 'schemaVersion', value: 1 }, ...counts.map((key) => ({ type: 'del' as const, section: 'history-counts', key }))]);
  await first.stop({ keepData: true });

  const upgraded = await startTestStore({ dataDir: first.dataDir });
  t.after(() => upgraded.stop({ keepData: true }));
  const listed = (await (await upgraded.api('/backups')).json()) as { items: BackupInfo[] };
  assert.deepEqual(listed.items.map((item) => item.reason), [`before-schema-${latestSchema}`]);
  assert.deepEqual((await verifyStore(upgraded.running.services.store.storage)).problems, []);
});

test('a fresh store migrates without a backup: there is nothing to keep yet', async (t) => {
  const store = await startTestStore();
  t.after(() => store.stop());
  const listed = (await (await store.api('/backups')).json()) as { items: BackupInfo[] };
  assert.deepEqual(listed.items, []);
});

test('the daily check runs on its own timer: a first daily backup appears without anyone asking', async (t) => {
  const store = await startTestStore({ backups: { checkEveryMs: 20 } });
  t.after(() => store.stop());
  const { backups } = store.running.services;
  while (!(await backups.list()).some((backup) => backup.reason === 'daily')) await new Promise((resolve) => setTimeout(resolve, 20));
  const daily = (await backups.list()).filter((backup) => backup.reason === 'daily');
  assert.equal(daily.length, 1, 'then none until a day has passed');
});
