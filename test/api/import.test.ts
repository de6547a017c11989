import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { contentsOf, createSpace, fixture, flatten, importFile, importOk, type FlatRequest } from '../helpers/projects.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

type Json = Record<string, any>;

/** What a Postman collection's requests must become, read from the collection itself. */
function postmanExpectations(collection: Json): FlatRequest[] {
  const parts = (list: Json[] = []) => list.map((p) => ({ name: p.key, value: p.type === 'file' ? '' : String(p.value ?? ''), enabled: p.disabled !== true && p.enabled !== false, ...(p.type === 'file' ? { isFile: true, fileName: p.src } : {}) }));
  const payload = (body: Json | undefined) => {
    if (!body?.mode) return undefined;
    if (body.mode === 'raw') return body.raw ?? '';
    if (body.mode === 'urlencoded') return { type: 'x-www-form-urlencoded', data: parts(body.urlencoded) };
    if (body.mode === 'formdata') return { type: 'formdata', data: parts(body.formdata) };
    if (body.mode === 'graphql') return JSON.stringify(body.graphql);
    return undefined;
  };
  const out: FlatRequest[] = [];
  const walk = (items: Json[], path: string[]) => {
    for (const item of items) {
      if (item.item) walk(item.item, [...path, item.name]);
      else {
        const r = item.request;
        const headers = (r.header ?? []).filter((h: Json) => !h.disabled && h.enabled !== false).map((h: Json) => `${h.key}: ${h.value}`).join('\n');
        out.push({ path, name: item.name, method: r.method, url: typeof r.url === 'string' ? r.url : r.url.raw, headers, payload: payload(r.body) });
      }
    }
  };
  walk(collection.item, []);
  return out;
}

/** What a HAR's entries must become. */
function harExpectations(har: Json): Omit<FlatRequest, 'name'>[] {
  return har.log.entries.map((entry: Json) => {
    const r = entry.request;
    const headers = (r.headers ?? []).filter((h: Json) => !h.name.startsWith(':')).map((h: Json) => `${h.name}: ${h.value}`);
    if (r.cookies?.length && !(r.headers ?? []).some((h: Json) => h.name.toLowerCase() === 'cookie')) headers.push(`Cookie: ${r.cookies.map((c: Json) => `${c.name}=${c.value}`).join('; ')}`);
    return { path: [], method: r.method, url: r.url, headers: headers.join('\n'), payload: r.postData?.text };
  });
}

const withoutNames = (list: FlatRequest[]) => list.map(({ name: _name, ...rest }) => rest);

describe('POST /import', () => {
  let store: TestStore;
  let space: Json;
  before(async () => {
    store = await startTestStore();
    space = await createSpace(store, 'imports');
  });
  after(() => store.stop());

  for (const name of ['postman-v2.1-complex.json', 'postman-v2.0-complex.json', 'postman-v2.1-scripts.json', 'postman-v2.0-basic-auth.json', 'postman-v2.1-bearer-token.json']) {
    test(`Postman collection ${name}: folders, requests, bodies, in order`, async () => {
      const source = JSON.parse(fixture(name));
      const report = await importOk(store, name, space.key);
      assert.equal(report.format, name.includes('v2.0') ? 'postman-collection-v2.0' : 'postman-collection-v2.1');
      assert.equal(report.created.length, 1);
      assert.equal(report.created[0].kind, 'Core#HttpProject');
      assert.equal(report.created[0].name, source.info.name);
      assert.equal(report.created[0].parent, space.key);
      const document = await contentsOf(store, report.created[0].key);
      assert.deepEqual(flatten(document), postmanExpectations(source));
    });
  }

  test('Postman: unknown body modes are reported with their location; auth, scripts and variables are kept', async () => {
    const complex = await importOk(store, 'postman-v2.1-complex.json', space.key);
    assert.deepEqual(complex.skipped, [{ location: '/item/2/request/body', reason: 'The body mode "unknown" is not one Postman defines; the body is left out.' }]);
    const basic = await contentsOf(store, (await importOk(store, 'postman-v2.0-basic-auth.json', space.key)).created[0].key);
    assert.deepEqual(basic.definitions.requests[0].authorization.map((a: Json) => [a.type, a.config]), [['basic', { password: 'basic-password', username: 'basic-username' }]]);
    const bearer = await contentsOf(store, (await importOk(store, 'postman-v2.1-bearer-token.json', space.key)).created[0].key);
    assert.deepEqual(bearer.definitions.requests[0].authorization.map((a: Json) => [a.type, a.config]), [['bearer', { token: 'bearer-token-value' }]]);
    const source = JSON.parse(fixture('postman-v2.1-scripts.json'));
    const scripts = await contentsOf(store, (await importOk(store, 'postman-v2.1-scripts.json', space.key)).created[0].key);
    const events = Object.fromEntries(source.item[0].event.map((e: Json) => [e.listen, e.script.exec.join('\n')]));
    assert.deepEqual(scripts.definitions.requests[0].scripts, { preRequest: events.prerequest, afterResponse: events.test });
    assert.deepEqual(
      scripts.definitions.environments[0].variables.map((v: Json) => [v.name, v.value]),
      source.variable.map((v: Json) => [v.key, v.value]),
    );
  });

  test('a Postman environment becomes a project with that environment', async () => {
    const source = JSON.parse(fixture('postman-environment.json'));
    const report = await importOk(store, 'postman-environment.json', space.key);
    assert.equal(report.format, 'postman-environment');
    const document = await contentsOf(store, report.created[0].key);
    assert.equal(document.info.name, source.name);
    assert.equal(document.definitions.environments.length, 1);
    assert.deepEqual(
      document.definitions.environments[0].variables.map((v: Json) => [v.name, v.value, v.enabled]),
      source.values.map((v: Json) => [v.key, v.value, v.enabled !== false]),
    );
  });

  test('Insomnia v4: one project per workspace, folders, requests, environments; specs and tests reported', async () => {
    const source = JSON.parse(fixture('insomnia-v4.json'));
    const report = await importOk(store, 'insomnia-v4.json', space.key);
    assert.equal(report.format, 'insomnia-v4');
    const workspaces = source.resources.filter((r: Json) => r._type === 'workspace');
    assert.deepEqual(report.created.map((c: Json) => c.name), workspaces.map((w: Json) => w.name));
    const document = await contentsOf(store, report.created[0].key);
    const requests = source.resources.filter((r: Json) => r._type === 'request');
    const flat = flatten(document);
    assert.equal(flat.length, requests.length);
    const expected = requests.map((request: Json) => {
      const query = (request.parameters ?? []).filter((p: Json) => !p.disabled && p.name).map((p: Json) => `${p.name}=${p.value}`);
      const folder = source.resources.find((r: Json) => r._id === request.parentId);
      return {
        path: folder._type === 'request_group' ? [folder.name] : [],
        name: request.name,
        method: request.method,
        url: query.length ? `${request.url}${request.url.includes('?') ? '&' : '?'}${query.join('&')}` : request.url,
        headers: (request.headers ?? []).filter((h: Json) => !h.disabled && h.name).map((h: Json) => `${h.name}: ${h.value}`).join('\n'),
        payload: request.body?.text,
      };
    });
    const order = (list: FlatRequest[]) => [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    assert.deepEqual(order(flat), order(expected));
    assert.equal(document.definitions.environments.length, source.resources.filter((r: Json) => r._type === 'environment').length);
    const unmapped = source.resources.flatMap((r: Json, i: number) => (['cookie_jar', 'api_spec', 'unit_test_suite', 'unit_test'].includes(r._type) ? [`/resources/${i}`] : []));
    assert.deepEqual(report.skipped.map((s: Json) => s.location).sort(), unmapped.sort());
  });

  test('Insomnia v5 (YAML): nested folders, folder environments, auth', async () => {
    const report = await importOk(store, 'insomnia-v5-variable-inheritance.yaml', space.key);
    assert.equal(report.format, 'insomnia-v5');
    assert.equal(report.created[0].name, 'Variable Inheritance');
    const document = await contentsOf(store, report.created[0].key);
    assert.deepEqual(flatten(document), [
      {
        path: ['grandparent', 'parent'],
        name: 'Child Request',
        method: 'GET',
        url: 'https://insomnia-airlines-api.onrender.com/test/extra-data',
        headers: "User-Agent: insomnia/12.5.1-alpha.0\nx-test-value: {{ _['test-value'] }}",
        payload: undefined,
      },
    ]);
    assert.deepEqual(document.definitions.requests[0].authorization[0].type, 'basic');
    assert.deepEqual(
      document.definitions.environments.map((e: Json) => [e.info.name, e.variables.map((v: Json) => [v.name, v.value])]),
      [['grandparent environment', [['test-value', 'grandparent']]], ['Base Environment', [['test-value', 'collection']]]],
    );
    const grandparent = document.definitions.folders.find((f: Json) => f.info.name === 'grandparent');
    assert.ok(grandparent.items.some((i: Json) => i.kind === 'Core#Environment'));
  });

  test('HAR 1.2: one request per entry, pseudo-headers dropped, cookies as a Cookie header', async () => {
    const source = JSON.parse(fixture('har-deep.json'));
    const report = await importOk(store, 'har-deep.json', space.key);
    assert.equal(report.format, 'har-1.2');
    const flat = flatten(await contentsOf(store, report.created[0].key));
    assert.deepEqual(withoutNames(flat), harExpectations(source));
    assert.equal(flat[1].name, 'POST /foo/bar');
  });

  test('OpenAPI 3 (YAML): one request per operation, query parameters, example bodies, servers as environments', async () => {
    const report = await importOk(store, 'openapi3-petstore.yaml', space.key);
    assert.equal(report.format, 'openapi-3');
    assert.equal(report.created[0].name, 'Swagger Petstore');
    const document = await contentsOf(store, report.created[0].key);
    const flat = flatten(document);
    assert.deepEqual(flat.map((r) => [r.path, r.name, r.method, r.url, r.headers]), [
      [['pets'], 'List all pets', 'GET', '/pets?limit=', ''],
      [['pets'], 'Create a pet', 'POST', '/pets', ''],
      [['pets'], 'Info for a specific pet', 'GET', '/pets/{petId}', ''],
    ]);
    assert.deepEqual(document.definitions.environments.map((e: Json) => e.server.uri), ['http://petstore.swagger.io/v1']);
  });

  test('Swagger 2.0: every operation, body parameters as JSON examples, form parameters as forms', async () => {
    const source = JSON.parse(fixture('swagger2-petstore.json'));
    const report = await importOk(store, 'swagger2-petstore.json', space.key);
    assert.equal(report.format, 'swagger-2.0');
    const document = await contentsOf(store, report.created[0].key);
    const flat = flatten(document);
    const operations = Object.entries(source.paths as Json).flatMap(([path, item]) => Object.keys(item).filter((m) => m !== 'parameters').map((m) => `${m.toUpperCase()} ${path}`));
    assert.deepEqual(flat.map((r) => `${r.method} ${r.url.split('?')[0]}`).sort(), operations.sort());
    const addPet = flat.find((r) => r.method === 'POST' && r.url === '/pet')!;
    assert.equal(addPet.headers, 'Content-Type: application/json');
    assert.deepEqual(Object.keys(JSON.parse(addPet.payload as string)).sort(), Object.keys(source.definitions.Pet.properties).sort());
    const form = flat.find((r) => r.method === 'POST' && r.url === '/pet/{petId}')!;
    assert.equal((form.payload as Json).type, 'x-www-form-urlencoded');
    assert.deepEqual(document.definitions.environments.map((e: Json) => e.server.uri), source.schemes.map((s: string) => `${s}://${source.host}${source.basePath}`));
  });

  test('a cURL command line (text/plain), through curlconverter', async () => {
    const report = await importOk(store, 'curl-complex.sh', space.key);
    assert.equal(report.format, 'curl');
    assert.deepEqual(report.skipped, [{ location: 'line 1', reason: '-i is not a supported option' }]);
    const flat = flatten(await contentsOf(store, report.created[0].key));
    assert.deepEqual(withoutNames(flat), [
      {
        path: [],
        method: 'POST',
        url: 'http://localhost:8000/api/v1/send',
        headers: [
          'x-custom-header: foo bar',
          'content-type: application/json',
          'another-header: foo',
          `Authorization: Basic ${Buffer.from('My User:My:Secret:Password').toString('base64')}`,
          'Cookie: foo=bar',
        ].join('\n'),
        payload: '{"email_id": "tem_123"}',
      },
    ]);
  });

  test('an imported project is a valid project document: the store accepts it back with PUT', async () => {
    const report = await importOk(store, 'swagger2-petstore.json', space.key);
    const document = await contentsOf(store, report.created[0].key);
    const put = await store.api(`/files/${report.created[0].key}?alt=media`, { method: 'PUT', body: document });
    assert.equal(put.status, 200, await put.text());
  });

  test('an OpenAPI reference to a file or URL is not followed: the import reads only its body', async () => {
    // The attacker's steps: a document whose request body points at a file on the store's machine.
    const secretFile = join(store.dataDir, 'secret.json');
    await writeFile(secretFile, JSON.stringify({ content: { 'application/json': { example: { secret: 'from the server disk' } } } }));
    const openapi = parseYaml(fixture('openapi3-petstore.yaml'));
    const refs = { '/file': { post: { requestBody: { $ref: secretFile }, responses: {} } }, '/url': { post: { requestBody: { $ref: 'http://127.0.0.1:1/x.json' }, responses: {} } } };
    const response = await importFile(store, JSON.stringify({ ...openapi, paths: refs }), 'application/json', space.key);
    const report = (await response.json()) as Json;
    assert.equal(response.status, 201, JSON.stringify(report));
    const flat = flatten(await contentsOf(store, report.created[0].key));
    assert.deepEqual(flat.map((r) => [r.method, r.url, r.payload]), [['POST', '/file', undefined], ['POST', '/url', undefined]]);
  });

  describe('bad input: a clear 400 and nothing written', () => {
    const listing = async () => {
      const response = await store.api(`/files?parent=${space.key}&limit=500`);
      return ((await response.json()) as Json).items.map((f: Json) => f.key).sort();
    };
    const postman = JSON.parse(fixture('postman-v2.1-complex.json'));
    const openapi = parseYaml(fixture('openapi3-petstore.yaml'));
    const cases: { name: string; body: string; type: string; code: string; format?: string; location?: string }[] = [
      { name: 'not a known format', body: JSON.stringify({ hello: 'world' }), type: 'application/json', code: 'import_unsupported_format' },
      { name: 'Postman v1', body: JSON.stringify({ info: { schema: 'https://schema.getpostman.com/json/collection/v1.0.0/collection.json' } }), type: 'application/json', code: 'import_unsupported_format' },
      { name: 'Postman without items', body: JSON.stringify({ ...postman, item: 'nope' }), type: 'application/json', code: 'import_failed', format: 'postman-collection-v2.1', location: '/item' },
      { name: 'Insomnia v4 without a workspace', body: JSON.stringify({ _type: 'export', __export_format: 4, resources: [{ _type: 'request', _id: 'r', parentId: 'gone' }] }), type: 'application/json', code: 'import_failed', format: 'insomnia-v4', location: '/resources' },
      { name: 'Insomnia v5 with a broken collection', body: 'type: collection.insomnia.rest/5.0\nname: x\ncollection: nope\n', type: 'application/yaml', code: 'import_failed', format: 'insomnia-v5', location: '/collection' },
      { name: 'truncated HAR', body: fixture('har-deep.json').slice(0, 200), type: 'text/plain', code: 'import_failed', format: 'json' },
      { name: 'broken YAML', body: 'openapi: 3.0.0\ninfo: [unclosed\n', type: 'text/yaml', code: 'import_failed', format: 'yaml', location: 'line 3, column 1' },
      { name: 'OpenAPI with a dangling $ref', body: JSON.stringify({ ...openapi, paths: { '/x': { get: { responses: { 200: { $ref: '#/components/responses/Missing' } } } } } }), type: 'application/json', code: 'import_failed', format: 'openapi-3' },
      { name: 'Swagger with a dangling $ref', body: JSON.stringify({ swagger: '2.0', info: { title: 't', version: '1' }, paths: { '/x': { get: { parameters: [{ $ref: '#/parameters/missing' }], responses: {} } } } }), type: 'application/json', code: 'import_failed', format: 'swagger-2.0' },
      { name: 'cURL without a URL', body: 'curl -X POST', type: 'text/plain', code: 'import_failed', format: 'curl' },
      { name: 'api-store export with an unknown parent', body: JSON.stringify({ kind: 'ApiStore#Export', version: 1, files: [{ key: 'a', kind: 'Core#HttpProject', parent: 'nope', meta: { info: { name: 'a' } } }] }), type: 'application/json', code: 'import_failed', format: 'api-store', location: '/files/0/parent' },
      { name: 'api-store export with an invalid project', body: JSON.stringify({ kind: 'ApiStore#Export', version: 1, files: [{ key: 's', kind: 'Core#Space', meta: { info: { name: 's' } } }, { key: 'p', kind: 'Core#HttpProject', parent: 's', meta: { info: { name: 'p' } }, contents: { kind: 'Core#HttpProject' } }] }), type: 'application/json', code: 'invalid_project_document' },
    ];
    for (const bad of cases) {
      test(bad.name, async () => {
        const before = { files: await listing(), seq: store.running.services.store.seq };
        const response = await importFile(store, bad.body, bad.type, space.key);
        const problem = (await response.json()) as Json;
        assert.equal(response.status, 400, JSON.stringify(problem));
        assert.equal(problem.code, bad.code);
        assert.match(response.headers.get('Content-Type') ?? '', /^application\/problem\+json/);
        if (bad.format) assert.equal(problem.format, bad.format);
        if (bad.location) assert.equal(problem.location, bad.location);
        assert.deepEqual({ files: await listing(), seq: store.running.services.store.seq }, before);
      });
    }

    test('a body of another content type is refused (415), an empty one 400', async () => {
      const response = await importFile(store, fixture('curl-complex.sh'), 'application/octet-stream', space.key);
      assert.equal(response.status, 415);
      const empty = await store.api(`/import?parent=${space.key}`, { method: 'POST' });
      assert.equal(empty.status, 400);
    });

    test('an import into a space the caller cannot see, or into a project, writes nothing', async () => {
      const project = await importOk(store, 'har-deep.json', space.key);
      const seq = store.running.services.store.seq;
      const intoProject = await importFile(store, fixture('har-deep.json'), 'application/json', project.created[0].key);
      assert.equal(((await intoProject.json()) as Json).code, 'parent_not_space');
      const missing = await importFile(store, fixture('har-deep.json'), 'application/json', 'no-such-space');
      assert.equal(((await missing.json()) as Json).code, 'parent_not_found');
      assert.equal(store.running.services.store.seq, seq);
    });
  });
});
