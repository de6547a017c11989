import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { exitOf } from '../helpers/backend-process.js';
import { outputOf, runCli, waitForLine } from '../helpers/cli-process.js';
import { largeHar, largeHarRequests } from '../helpers/large-har.js';
import { fixturesDir } from '../helpers/projects.js';
import { makeTempDir } from '../helpers/store.js';

test('api-store import and export: offline on a stopped store, through the running server otherwise', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));

  const imported = await outputOf(runCli(['import', join(fixturesDir, 'postman-v2.1-complex.json'), '--data-dir', dataDir]));
  assert.equal(imported.code, 0, imported.stderr);
  const report = JSON.parse(imported.stdout);
  assert.equal(report.format, 'postman-collection-v2.1');
  const [project] = report.created;

  const out = join(dataDir, 'export.json');
  const exported = await outputOf(runCli(['export', project.key, '--format', 'postman-v2.1', '--out', out, '--data-dir', dataDir]));
  assert.equal(exported.code, 0, exported.stderr);
  const collection = JSON.parse(await readFile(out, 'utf8'));
  assert.equal(collection.info.name, 'Complex Test Collection');

  const broken = await outputOf(runCli(['import', join(fixturesDir, 'README.md'), '--data-dir', dataDir]));
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /^api-store: import_/);

  // With a server running on the data dir, the CLI goes through its API.
  const server = runCli(['--server', '--data-dir', dataDir, '--log-level', 'silent']);
  t.after(() => server.kill('SIGKILL'));
  await waitForLine(server, /listening on/);
  const viaServer = await outputOf(runCli(['import', join(fixturesDir, 'curl-complex.sh'), '--data-dir', dataDir]));
  assert.equal(viaServer.code, 0, viaServer.stderr);
  assert.equal(JSON.parse(viaServer.stdout).format, 'curl');
  const again = await outputOf(runCli(['export', project.key, '--data-dir', dataDir]));
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).files[0].key, project.key);
  server.kill('SIGTERM');
  await exitOf(server);
});

test('api-store import of a HAR streams the file, offline and through the running server', async (t) => {
  const [dataDir, files] = [join(await makeTempDir(), 'data'), await makeTempDir()];
  t.after(() => Promise.all([rm(join(dataDir, '..'), { recursive: true, force: true }), rm(files, { recursive: true, force: true })]));
  const file = join(files, 'large.har');
  await writeFile(file, largeHar(2000, 4096));
  const requestsOf = async (key: string) => {
    const exported = await outputOf(runCli(['export', key, '--data-dir', dataDir]));
    assert.equal(exported.code, 0, exported.stderr);
    return JSON.parse(exported.stdout).files[0].contents.definitions.requests.map((r: { expects: { url: string } }) => r.expects.url);
  };
  const expected = largeHarRequests(2000).map((r) => r.url);

  const offline = await outputOf(runCli(['import', file, '--data-dir', dataDir]));
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual(await requestsOf(JSON.parse(offline.stdout).created[0].key), expected);

  const server = runCli(['--server', '--data-dir', dataDir, '--log-level', 'silent']);
  t.after(() => server.kill('SIGKILL'));
  await waitForLine(server, /listening on/);
  const online = await outputOf(runCli(['import', file, '--data-dir', dataDir]));
  assert.equal(online.code, 0, online.stderr);
  assert.deepEqual(await requestsOf(JSON.parse(online.stdout).created[0].key), expected);
  server.kill('SIGTERM');
  await exitOf(server);
});
