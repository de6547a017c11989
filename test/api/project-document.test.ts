import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { projectDocumentJsonSchema } from '../../backend/src/projects/project-document.js';
import { createSpace } from '../helpers/projects.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

type Json = Record<string, any>;

const documentOf = (extra: Json = {}) => ({
  kind: 'Core#HttpProject',
  info: { kind: 'Core#Thing', name: 'api' },
  items: [{ kind: 'Core#ProjectRequest', key: 'r1' }],
  definitions: {
    requests: [{ kind: 'Core#ProjectRequest', key: 'r1', info: { name: 'list' }, expects: { url: 'https://example.com', method: 'GET', headers: 'accept: */*' } }],
    environments: [{ kind: 'Core#Environment', key: 'e1', info: { name: 'prod' }, server: { uri: 'https://example.com' }, variables: [{ name: 'x', value: 1, type: 'number' }] }],
  },
  ...extra,
});

describe('the project document', () => {
  let store: TestStore;
  let space: Json;
  before(async () => {
    store = await startTestStore();
    space = await createSpace(store, 'projects');
  });
  after(() => store.stop());

  const problemOf = async (response: Response) => {
    const body = (await response.json()) as Json;
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(body.code, 'invalid_project_document');
    return body;
  };

  test('is checked on create, PUT and PATCH; unknown fields are kept; other kinds stay free-form', async () => {
    const created = await store.api(`/files?parent=${space.key}&alt=media`, { method: 'POST', body: { meta: { kind: 'Core#HttpProject', info: { name: 'api' } }, media: documentOf({ futureField: { a: 1 } }) } });
    assert.equal(created.status, 201);
    const { key } = (await created.json()) as Json;
    assert.deepEqual(await (await store.api(`/files/${key}?alt=media`)).json(), documentOf({ futureField: { a: 1 } }));

    const badCreate = await problemOf(await store.api(`/files?parent=${space.key}&alt=media`, { method: 'POST', body: { meta: { kind: 'Core#HttpProject', info: { name: 'bad' } }, media: { requests: [] } } }));
    assert.ok(badCreate.errors.some((e: Json) => e.path === 'items'));
    const seq = store.running.services.store.seq;
    const badPut = await problemOf(await store.api(`/files/${key}?alt=media`, { method: 'PUT', body: documentOf({ items: [{ kind: 'Core#Nope', key: 'x' }] }) }));
    assert.ok(badPut.errors.some((e: Json) => e.path === 'items.0.kind'));
    await problemOf(await store.api(`/files/${key}?alt=media`, { method: 'PATCH', body: [{ op: 'remove', path: '/definitions/requests/0/expects' }] }));
    assert.equal(store.running.services.store.seq, seq, 'nothing written');
    const patched = await store.api(`/files/${key}?alt=media`, { method: 'PATCH', body: [{ op: 'add', path: '/definitions/requests/0/expects/payload', value: '{}' }] });
    assert.equal(patched.status, 200);

    const note = await store.api(`/files?parent=${space.key}&alt=media`, { method: 'POST', body: { meta: { kind: 'Core#Note', info: { name: 'n' } }, media: { requests: [] } } });
    assert.equal(note.status, 201);
  });

  test('its JSON Schema is exported and part of the OpenAPI document', async () => {
    const schema = projectDocumentJsonSchema() as Json;
    assert.equal(schema.properties.kind.const, 'Core#HttpProject');
    assert.deepEqual([...schema.required].sort(), ['definitions', 'info', 'items', 'kind']);
    const openapi = (await (await store.api('/openapi.json')).json()) as Json;
    assert.ok(openapi.components.schemas.HttpProject, 'HttpProject in components');
    assert.ok(openapi.paths['/import'] && openapi.paths['/files/{key}/export'] && openapi.paths['/history/export']);
  });
});
