import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Level } from 'level';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { migrations } from '../../backend/src/store/migrations.js';
import { Store } from '../../backend/src/store/store.js';
import { verifyStore } from '../../backend/src/store/verify.js';
import { outputOf, runCli, waitForLine } from '../helpers/cli-process.js';
import { populateStore } from '../helpers/populate.js';
import { makeTempDir } from '../helpers/store.js';

/** The schema this api-store writes. */
const schema = migrations.at(-1)!.version;

/** `api-store backup | restore | verify` as real processes on real data dirs. */

async function populatedDataDir(): Promise<string> {
  const dataDir = await makeTempDir('api-store-backup-');
  const store = await Store.open(await openLevelStorage(join(dataDir, 'db'), { sync: false }));
  await populateStore(store);
  await store.close();
  return dataDir;
}

async function digestOf(dataDir: string): Promise<{ digest: string; records: number }> {
  const storage = await openLevelStorage(join(dataDir, 'db'), { sync: false });
  try {
    const { digest, records, problems } = await verifyStore(storage);
    assert.deepEqual(problems, []);
    return { digest, records };
  } finally {
    await storage.close();
  }
}

test('a stopped store: backup, restore into a new dir, verify; the restored store has the same digest', async (t) => {
  const dataDir = await populatedDataDir();
  const work = await makeTempDir('api-store-backup-work-');
  t.after(() => Promise.all([rm(dataDir, { recursive: true, force: true }), rm(work, { recursive: true, force: true })]));
  const file = join(work, 'store.backup.gz');

  const backup = await outputOf(runCli(['backup', '--data-dir', dataDir, '--out', file]));
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stdout, /backup written to .* \(\d+ records\)/);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const lines = gunzipSync(await readFile(file)).toString('utf8').trimEnd().split('\n');
  assert.deepEqual({ ...JSON.parse(lines[0]), created: 0, seq: 0 }, { format: 'api-store-backup', version: 1, schema, seq: 0, created: 0 });
  assert.match(lines.at(-1)!, /^\{"end":true,"records":\d+,"sha256":"[0-9a-f]{64}"\}$/);

  const again = await outputOf(runCli(['backup', '--data-dir', dataDir, '--out', file]));
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists; choose a new --out file/);

  const target = join(work, 'restored');
  const restore = await outputOf(runCli(['restore', file, '--data-dir', target]));
  assert.equal(restore.code, 0, restore.stderr);
  assert.match(restore.stdout, /restored \d+ records .*\nno problems found/s);
  assert.deepEqual(await digestOf(target), await digestOf(dataDir));

  const verify = await outputOf(runCli(['verify', '--data-dir', target]));
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /^\d+ records, digest sha256:[0-9a-f]{64}\nno problems found\n$/);
});

test('a backup of an older schema restores as it was, says its next start migrates it, and verifies clean after that start', async (t) => {
  const dataDir = await populatedDataDir();
  const work = await makeTempDir('api-store-backup-work-');
  t.after(() => Promise.all([rm(dataDir, { recursive: true, force: true }), rm(work, { recursive: true, force: true })]));
  // A store of schema 6, before migration 7: its history has none of the search index that migration builds.
  const older = 6;
  const storage = await openLevelStorage(join(dataDir, 'db'), { sync: false });
  const drop = [];
  for (const section of ['history-runs', 'history-postings-by-user', 'history-postings-by-space', 'history-postings-by-project', 'history-postings-by-request']) {
    for await (const key of storage.keys(section)) drop.push({ type: 'del' as const, section, key });
  }
  await storage.write([...drop, { type: 'put', section: 'meta', key: 'schemaVersion', value: older }]);
  await storage.close();
  const file = join(work, 'older.backup.gz');
  assert.equal((await outputOf(runCli(['backup', '--data-dir', dataDir, '--out', file]))).code, 0);

  const target = join(work, 'restored');
  const restore = await outputOf(runCli(['restore', file, '--data-dir', target]));
  assert.equal(restore.code, 0, restore.stderr);
  assert.match(restore.stdout, new RegExp(`restored \\d+ records .*\\nrecords of schema ${older}, digest sha256:[0-9a-f]{64}: this api-store migrates them to schema ${schema} at its next start`, 's'));
  const store = await Store.open(await openLevelStorage(join(target, 'db'), { sync: false }));
  await store.close();
  await digestOf(target);
});

test('restore refuses a non-empty dir and leaves it as it was', async (t) => {
  const dataDir = await populatedDataDir();
  const work = await makeTempDir('api-store-backup-work-');
  t.after(() => Promise.all([rm(dataDir, { recursive: true, force: true }), rm(work, { recursive: true, force: true })]));
  const file = join(work, 'store.backup.gz');
  assert.equal((await outputOf(runCli(['backup', '--data-dir', dataDir, '--out', file]))).code, 0);
  const before = await digestOf(dataDir);

  const intoUsed = await outputOf(runCli(['restore', file, '--data-dir', dataDir]));
  assert.equal(intoUsed.code, 1);
  assert.match(intoUsed.stderr, /is not empty\. A backup is restored only into an empty or new directory; nothing was changed/);
  assert.deepEqual(await digestOf(dataDir), before);

  const other = join(work, 'other');
  await mkdir(other);
  await writeFile(join(other, 'notes.txt'), 'mine');
  const intoOther = await outputOf(runCli(['restore', file, '--data-dir', other]));
  assert.equal(intoOther.code, 1);
  assert.equal(await readFile(join(other, 'notes.txt'), 'utf8'), 'mine');
});

test('a truncated, an altered, a foreign and a newer-format backup are refused with a clear message and restore nothing', async (t) => {
  const dataDir = await populatedDataDir();
  const work = await makeTempDir('api-store-backup-work-');
  t.after(() => Promise.all([rm(dataDir, { recursive: true, force: true }), rm(work, { recursive: true, force: true })]));
  const file = join(work, 'store.backup.gz');
  assert.equal((await outputOf(runCli(['backup', '--data-dir', dataDir, '--out', file]))).code, 0);
  const bytes = await readFile(file);
  const text = gunzipSync(bytes).toString('utf8');
  const lines = text.trimEnd().split('\n');

  const cases: [string, Buffer, RegExp][] = [
    ['truncated (gzip cut)', bytes.subarray(0, Math.floor(bytes.length / 2)), /damaged or truncated/],
    ['truncated (whole lines cut, no trailer)', gzipSync(lines.slice(0, -3).join('\n') + '\n'), /it is truncated: it ends before its trailer/],
    ['a value altered', gzipSync(text.replace('"Renamed"', '"Renamex"')), /its checksum does not match its contents/],
    ['a line removed', gzipSync([...lines.slice(0, 2), ...lines.slice(3)].join('\n') + '\n'), /its checksum does not match its contents/],
    ['not a backup', Buffer.from('hello\n'), /it is not an api-store backup/],
    ['a newer format', gzipSync(text.replace('"version":1', '"version":2')), /it is a version 2 backup; this api-store reads version 1 and older/],
    ['a newer schema', gzipSync(text.replace(`"schema":${schema}`, '"schema":99')), /written by a newer api-store \(schema 99/],
  ];
  for (const [name, content, message] of cases) {
    const bad = join(work, `${name}.gz`);
    await writeFile(bad, content);
    const target = join(work, `target ${name}`);
    const result = await outputOf(runCli(['restore', bad, '--data-dir', target]));
    assert.equal(result.code, 1, name);
    assert.match(result.stderr, message, name);
    assert.ok(!result.stderr.includes('    at '), `${name}: no stack trace`);
    await assert.rejects(stat(join(target, 'db')), `${name}: no store restored`);
  }
});

test('verify reports a broken store and exits 1', async (t) => {
  const dataDir = await populatedDataDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const storage = await openLevelStorage(join(dataDir, 'db'), { sync: false });
  await storage.write([{ type: 'put', section: 'file-media', key: 'orphan', value: { value: 1, version: 1, updated: 1 } }]);
  await storage.close();
  const result = await outputOf(runCli(['verify', '--data-dir', dataDir]));
  assert.equal(result.code, 1);
  assert.match(result.stdout, /1 problem found:\n {2}file-media "orphan": contents without its file's metadata\n/);
});

test('a running server: backup through it while writes go on; the file restores to a store that verifies clean', async (t) => {
  const dataDir = await makeTempDir('api-store-backup-live-');
  const work = await makeTempDir('api-store-backup-work-');
  t.after(() => Promise.all([rm(dataDir, { recursive: true, force: true }), rm(work, { recursive: true, force: true })]));
  const server = runCli(['--server', '--data-dir', dataDir, '--log-level', 'silent']);
  t.after(() => server.kill('SIGKILL'));
  const [, url] = await waitForLine(server, /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)\n/);
  const { token } = JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8')) as { token: string };
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

  let writing = true;
  let written = 0;
  const writer = (async () => {
    while (writing) {
      const response = await fetch(`${url}/files`, { method: 'POST', headers, body: JSON.stringify({ kind: 'Core#Space', info: { name: `space ${written}` } }) });
      assert.equal(response.status, 201);
      written += 1;
    }
  })();
  while (written < 20) await new Promise((resolve) => setTimeout(resolve, 10));
  const files = [join(work, 'first.backup.gz'), join(work, 'second.backup.gz')];
  const acknowledged: number[] = [];
  for (const file of files) {
    acknowledged.push(written);
    const result = await outputOf(runCli(['backup', '--data-dir', dataDir, '--out', file]));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /by the running store/);
  }
  writing = false;
  await writer;

  for (const [index, file] of files.entries()) {
    const target = join(work, `restored-${index}`);
    const restore = await outputOf(runCli(['restore', file, '--data-dir', target]));
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /no problems found/);
    const storage = await openLevelStorage(join(target, 'db'), { sync: false });
    let spaces = 0;
    for await (const _ of storage.keys('files')) spaces += 1;
    await storage.close();
    assert.ok(spaces >= acknowledged[index], `backup ${index} holds every write acknowledged before it was asked for (${spaces} >= ${acknowledged[index]})`);
  }
  const listed = await (await fetch(`${url}/backups`, { headers })).json() as { items: { name: string }[] };
  assert.equal(listed.items.length, 2, 'the server keeps its copies');
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
});

test('verify and backup of a running store or of no store say so clearly', async (t) => {
  const dataDir = await makeTempDir('api-store-backup-live-');
  const work = await makeTempDir('api-store-backup-work-');
  t.after(() => Promise.all([rm(dataDir, { recursive: true, force: true }), rm(work, { recursive: true, force: true })]));
  const none = await outputOf(runCli(['verify', '--data-dir', join(work, 'nothing')]));
  assert.equal(none.code, 1);
  assert.match(none.stderr, /there is no store in/);
  await assert.rejects(stat(join(work, 'nothing')), 'verify creates nothing');

  const server = runCli(['--server', '--data-dir', dataDir, '--log-level', 'silent'], { API_STORE_TOKEN: 'y'.repeat(40) });
  t.after(() => server.kill('SIGKILL'));
  await waitForLine(server, /listening on/);
  const verify = await outputOf(runCli(['verify', '--data-dir', dataDir]));
  assert.equal(verify.code, 1);
  assert.match(verify.stderr, /in use by another api-store/);
  const noToken = await outputOf(runCli(['backup', '--data-dir', dataDir, '--out', join(work, 'x.gz')]));
  assert.equal(noToken.code, 1, 'the token is not in server.json and not in this environment');
  const withToken = await outputOf(runCli(['backup', '--data-dir', dataDir, '--out', join(work, 'x.gz')], { API_STORE_TOKEN: 'y'.repeat(40) }));
  assert.equal(withToken.code, 0, withToken.stderr);
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
});

test('opening a corrupted data dir, one that is not api-store’s, or a newer schema: a clear error, nothing changed', async (t) => {
  const work = await makeTempDir('api-store-bad-dirs-');
  t.after(() => rm(work, { recursive: true, force: true }));

  const corrupted = join(work, 'corrupted');
  const seeded = await Store.open(await openLevelStorage(join(corrupted, 'db'), { sync: true }));
  await populateStore(seeded);
  await seeded.close();
  const manifest = join(corrupted, 'db', (await readFile(join(corrupted, 'db', 'CURRENT'), 'utf8')).trim());
  await writeFile(manifest, 'not a manifest');

  const foreignDb = join(work, 'foreign-db');
  const level = new Level<string, string>(join(foreignDb, 'db'));
  await level.put('user:1', 'someone else’s data');
  await level.close();

  const folder = join(work, 'photos');
  await mkdir(folder);
  await writeFile(join(folder, 'holiday.jpg'), 'jpeg');

  const newer = join(work, 'newer');
  const storage = await openLevelStorage(join(newer, 'db'), { sync: true });
  await storage.write([{ type: 'put', section: 'meta', key: 'schemaVersion', value: 99 }]);
  await storage.close();

  const cases: [string, RegExp, RegExp][] = [
    [corrupted, /is damaged or unreadable and was not opened .*Nothing was changed/, /is damaged or unreadable/],
    [foreignDb, /is not an api-store data directory \(it holds the key "user:1"\)/, /is not an api-store data directory/],
    [folder, /is not an api-store data directory \(it holds holiday\.jpg and no store\)/, /there is no store in/],
    [newer, new RegExp(`written by a newer api-store \\(schema 99; this one knows up to ${schema}\\)`), /written by a newer api-store/],
  ];
  for (const [dataDir, serverMessage, verifyMessage] of cases) {
    const snapshotBefore = await readDirState(dataDir);
    const runs: [string[], RegExp][] = [[['--server', '--data-dir', dataDir, '--log-level', 'silent'], serverMessage], [['verify', '--data-dir', dataDir], verifyMessage]];
    for (const [args, message] of runs) {
      const result = await outputOf(runCli(args));
      assert.equal(result.code, 1, `${args[0]} ${dataDir}`);
      assert.match(result.stderr, message);
      assert.ok(!result.stderr.includes('    at '), 'no stack trace');
    }
    assert.deepEqual(await readDirState(dataDir), snapshotBefore, `${dataDir} is untouched`);
  }
});

/**
 * What a data dir holds: its files outside `db`, and the records of `db` (its files when LevelDB
 * cannot read them). Records, not files, for a readable db: LevelDB turns its log into a table at
 * every open, which rewrites files without changing a record.
 */
async function readDirState(dir: string): Promise<string[]> {
  const state: string[] = [];
  const dbDir = join(dir, 'db');
  let records: string[] | undefined;
  if (await stat(join(dbDir, 'CURRENT')).then(() => true, () => false)) {
    const level = new Level<string, string>(dbDir, { createIfMissing: false });
    try {
      await level.open();
      records = [];
      for await (const [key, value] of level.iterator()) records.push(`${key}=${value}`);
    } catch {
      records = undefined;
    } finally {
      await level.close();
    }
  }
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (!entry.isFile() || /^(LOG|LOG\.old|LOCK)$/.test(entry.name) || (records && path.startsWith(dbDir))) continue;
    state.push(`${path} ${(await stat(path)).size}`);
  }
  return [...state.sort(), ...(records ?? [])];
}
