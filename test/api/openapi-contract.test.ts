import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import spectralCore from '@stoplight/spectral-core';
import spectralParsers from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import openapiTS, { astToString } from 'openapi-typescript';
import { startTestStore, type TestStore } from '../helpers/store.js';

const { Spectral, Document, Ruleset } = spectralCore;
const root = fileURLToPath(new URL('../../', import.meta.url));

type Operation = { operationId?: string; security?: unknown[]; requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
type OpenApiDocument = {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  security: unknown[];
  servers: { url: string }[];
};

/**
 * What a client drives through the generated types: create, patch and list, typed end to end
 * (a wrong path, body or field would not compile).
 */
const clientSource = `import createClient from 'openapi-fetch';
import type { paths } from './api.js';

export async function drive(baseUrl: string, token: string): Promise<{ created: string; patchedName: string; listed: string[]; problem: string }> {
  const client = createClient<paths>({ baseUrl, headers: { Authorization: \`Bearer \${token}\` } });
  const created = await client.POST('/files', { body: { key: 'generated-client-1', kind: 'Core#HttpProject', info: { name: 'from the generated client' } } });
  if (!created.data) throw new Error(\`create failed: \${JSON.stringify(created.error)}\`);
  const key: string = created.data.key;
  const patched = await client.PATCH('/files/{key}', {
    params: { path: { key } },
    body: { app: 'generated', appVersion: '1', patch: [{ op: 'replace', path: '/info/name', value: 'renamed' }] },
  });
  if (!patched.data) throw new Error(\`patch failed: \${JSON.stringify(patched.error)}\`);
  const listed = await client.GET('/files', { params: { query: { limit: 50 } } });
  if (!listed.data) throw new Error('list failed');
  const missing = await client.GET('/files/{key}', { params: { path: { key: 'no-such-file' } } });
  const problem: string | undefined = missing.error?.code;
  return {
    created: key,
    patchedName: 'info' in patched.data ? String(patched.data.info.name) : '',
    listed: listed.data.items.map((file) => file.key),
    problem: problem ?? '',
  };
}
`;

describe('the OpenAPI document', () => {
  let store: TestStore;
  let document: OpenApiDocument;
  before(async () => {
    store = await startTestStore();
    const response = await store.api('/openapi.json');
    assert.equal(response.status, 200);
    document = (await response.json()) as OpenApiDocument;
  });
  after(() => store.stop());

  test('passes an OpenAPI validator', async () => {
    await SwaggerParser.validate(structuredClone(document) as never);
  });

  test('passes Spectral’s spectral:oas ruleset with no errors and no warnings', async () => {
    const spectral = new Spectral();
    const ruleset = {
      // `extends: spectral:oas` as a ruleset file would say it: its recommended rules.
      extends: [[oas, 'recommended']],
      // A WebSocket's success is 101 Switching Protocols: it has no 2xx or 3xx answer to declare.
      overrides: [{ files: ['openapi.json#/paths/~1events/get/responses'], rules: { 'operation-success-response': 'off' } }],
    };
    spectral.setRuleset(new Ruleset(ruleset as never, { source: join(root, '.spectral.json') }));
    const results = await spectral.run(new Document(JSON.stringify(document, null, 1), spectralParsers.Json, join(root, 'openapi.json')));
    assert.deepEqual(results.map((result) => `${result.code} ${result.path.join('.')}: ${result.message}`), []);
  });

  test('declares security, servers, an operationId for every operation and a Problem for every error', () => {
    assert.deepEqual(Object.keys(document.components.securitySchemes).sort(), ['bearer', 'queryToken']);
    assert.deepEqual(document.security, [{ bearer: [] }]);
    assert.deepEqual(document.servers.map((server) => server.url), ['/v1']);
    assert.deepEqual(document.paths['/store'].get.security, [], 'GET /store is open');
    assert.deepEqual(document.paths['/events'].get.security, [{ bearer: [] }, { queryToken: [] }]);
    const ids = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        assert.ok(operation.operationId && !ids.has(operation.operationId), `${method} ${path} has its own operationId`);
        ids.add(operation.operationId);
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          assert.deepEqual(response.content, { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }, `${method} ${path} ${status}`);
        }
        if (method === 'post' || method === 'put' || method === 'patch') {
          const bodyless = ['post /sessions/renew', 'put /trash/{key}/restore', 'post /backups', 'post /secrets/rotation'];
          if (!bodyless.includes(`${method} ${path}`)) {
            assert.ok(operation.requestBody, `${method} ${path} declares its body`);
            for (const status of ['413', '415']) assert.ok(operation.responses[status], `${method} ${path} declares ${status}`);
          }
        }
      }
    }
    const contents = document.paths['/files/{key}'].put.requestBody as { content: Record<string, unknown> };
    assert.deepEqual(Object.keys(contents.content), ['application/json', '*/*']);
    assert.ok(document.paths['/files/{key}'].patch.responses['412'] && document.paths['/files/{key}'].patch.responses['409']);
    // A target's failure is a 200 result with its code; the store's own refusals are declared.
    assert.ok(document.paths['/proxy'].post.responses['400'] && document.paths['/proxy'].post.responses['403']);
    assert.ok(document.paths['/sessions'].post.responses['429']);
  });

  test('a client generated with openapi-typescript compiles and drives create, patch and list with openapi-fetch', async (t) => {
    // Inside the project, so that the generated client resolves openapi-fetch like any module here.
    const dir = await mkdtemp(join(root, '.openapi-client-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'api.d.ts'), astToString(await openapiTS(structuredClone(document) as never)));
    await writeFile(join(dir, 'client.ts'), clientSource);
    const tsconfig = {
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
      files: ['client.ts'],
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    await promisify(execFile)(tsc, ['-p', join(dir, 'tsconfig.json')]).catch((error: { stdout: string }) => assert.fail(`the generated client does not compile:\n${error.stdout}`));

    const { drive } = (await import(pathToFileURL(join(dir, 'client.ts')).href)) as { drive: (baseUrl: string, token: string) => Promise<Record<string, unknown>> };
    const outcome = await drive(store.baseUrl, store.token);
    assert.equal(outcome.created, 'generated-client-1');
    assert.equal(outcome.patchedName, 'renamed');
    assert.ok((outcome.listed as string[]).includes('generated-client-1'));
    assert.equal(outcome.problem, 'file_not_found');
    const stored = await (await store.api('/files/generated-client-1')).json();
    assert.equal(stored.info.name, 'renamed');
  });
});
