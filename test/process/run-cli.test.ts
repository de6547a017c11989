import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import { exitOf } from '../helpers/backend-process.js';
import { closedPort, startHttpTarget, type Listening } from '../helpers/proxy-targets.js';
import { makeTempDir, startTestStore, type TestStore } from '../helpers/store.js';

const bin = new URL('../../bin/api-store.js', import.meta.url).pathname;

async function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { API_STORE_TOKEN: _ignored, ...rest } = process.env;
  const child = spawn(process.execPath, [bin, 'run', ...args], { env: { ...rest, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const { code } = await exitOf(child);
  return { code, stdout, stderr };
}

const projectOf = (server: string, urls: string[]) => ({
  kind: 'Core#HttpProject',
  info: { name: 'ci' },
  items: urls.map((_url, index) => ({ kind: 'Core#ProjectRequest', key: `r${index + 1}` })),
  definitions: {
    requests: urls.map((url, index) => ({ kind: 'Core#ProjectRequest', key: `r${index + 1}`, info: { name: `step <${index + 1}>` }, expects: { url, method: 'GET' } })),
    environments: [{ kind: 'Core#Environment', key: 'e1', info: { name: 'ci' }, server: { uri: server }, variables: [] }],
  },
});

/** The JUnit file parsed back: each test case's name and its failure type, if any. */
async function junitCases(file: string) {
  const xml = new DOMParser().parseFromString(await readFile(file, 'utf8'), 'text/xml');
  const suite = xml.getElementsByTagName('testsuite')[0];
  const cases = Array.from(xml.getElementsByTagName('testcase')).map((testcase) => ({
    name: testcase.getAttribute('name'),
    failure: testcase.getElementsByTagName('failure')[0]?.getAttribute('type') ?? null,
  }));
  return { tests: suite.getAttribute('tests'), failures: suite.getAttribute('failures'), cases };
}

describe('api-store run', () => {
  let dataDir: string;
  let target: Listening & { received: string[] };
  let passing: string;
  let failing: string;
  before(async () => {
    dataDir = await makeTempDir();
    target = await startHttpTarget();
    const store = await startTestStore({ dataDir });
    const create = async (document: unknown) => {
      const res = await store.api('/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#HttpProject', info: { name: 'ci' } }, media: document } });
      assert.equal(res.status, 201);
      return ((await res.json()) as { key: string }).key;
    };
    passing = await create(projectOf(target.url, ['/echo?step=1', '/echo?step=2']));
    failing = await create(projectOf(target.url, ['/echo?step=1', `http://127.0.0.1:${await closedPort()}/`]));
    await store.stop({ keepData: true });
  });
  after(async () => {
    await target.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a passing project on a data dir: a line per request, a summary, exit 0, and a JUnit report', async () => {
    const out = join(dataDir, 'passing.xml');
    const run = await runCli([passing, '--environment', 'ci', '--data-dir', dataDir, '--reporter', 'junit', '--out', out]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /✓ step <1>\s+200/);
    assert.match(run.stdout, /2 requests \(2 × 2xx\), 0 failed/);
    assert.deepEqual(await junitCases(out), { tests: '2', failures: '0', cases: [{ name: 'step <1>', failure: null }, { name: 'step <2>', failure: null }] });
  });

  test('a failing request makes the exit code 1 and a JUnit failure', async () => {
    const out = join(dataDir, 'failing.xml');
    const run = await runCli([failing, '--environment', 'ci', '--data-dir', dataDir, '--reporter', 'junit', '--out', out]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /✗ step <2>\s+connection_refused/);
    const report = await junitCases(out);
    assert.equal(report.failures, '1');
    assert.deepEqual(report.cases[1], { name: 'step <2>', failure: 'connection_refused' });
  });

  test('against a running store by --url, the token from API_STORE_TOKEN; usage errors exit 2', async () => {
    const store = await startTestStore({ dataDir });
    try {
      const run = await runCli([passing, '--environment', 'ci', '--url', store.baseUrl], { API_STORE_TOKEN: store.token });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /2 requests/);
      const noToken = await runCli([passing, '--url', store.baseUrl]);
      assert.equal(noToken.code, 2);
      assert.match(noToken.stderr, /API_STORE_TOKEN/);
      const unknownProject = await runCli(['nope', '--url', store.baseUrl], { API_STORE_TOKEN: store.token });
      assert.equal(unknownProject.code, 1);
      assert.match(unknownProject.stdout, /404/);
    } finally {
      await store.stop({ keepData: true });
    }
  });
});
