import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { exitOf } from '../helpers/backend-process.js';
import { fixturesDir } from '../helpers/projects.js';
import { makeTempDir } from '../helpers/store.js';

const bin = new URL('../../bin/api-store.js', import.meta.url).pathname;

function runCli(args: string[]): ChildProcess {
  const { API_STORE_TOKEN: _ignored, ...env } = process.env;
  return spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function outputOf(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const { code } = await exitOf(child);
  return { code, stdout, stderr };
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk) => {
      text += chunk;
      const match = text.match(pattern);
      if (match) resolve(match);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}: ${text}`)));
  });
}

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
