import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../backend/src/http/env.js';
import { routesOnFirstUse } from '../../backend/src/http/lazy-routes.js';
import { createApi, createRoute, jsonBody, jsonResponse } from '../../backend/src/http/openapi.js';

const invalid = (result: { success: boolean }, c: { json: (value: unknown, status: 400) => Response }) => (result.success ? undefined : c.json({ invalid: true }, 400));

const getThing = createRoute({
  method: 'get',
  path: '/things/{id}',
  summary: 'A thing',
  request: { params: z.object({ id: z.string().regex(/^t\d+$/) }) },
  responses: { 200: jsonResponse(z.object({ id: z.string() }), 'The thing') },
});
const renameThing = createRoute({
  method: 'patch',
  path: '/things/{id}',
  summary: 'Renames a thing',
  request: { params: z.object({ id: z.string() }), ...jsonBody(z.object({ name: z.string() })) },
  responses: { 200: jsonResponse(z.object({ id: z.string(), name: z.string() }), 'The renamed thing') },
});

/** An app whose `/things/{id}` routes are registered on first use; `registered` counts the loads. */
function appWithThings(declared: string[]) {
  const app = new OpenAPIHono<AppEnv>();
  const api = createApi(invalid);
  let registered = 0;
  const onFirstUse = routesOnFirstUse(api, () => createApi(invalid), async (routesApi) => {
    registered++;
    routesApi.openapi(getThing, (c) => c.json({ id: c.req.valid('param').id }, 200));
    routesApi.openapi(renameThing, (c) => c.json({ id: c.req.valid('param').id, name: c.req.valid('json').name }, 200));
  });
  onFirstUse.declare(declared);
  api.get('/health', (c) => c.json({ ok: true }));
  app.route('/v1', api);
  app.onError((_error, c) => c.text('failed', 500));
  return { app, load: onFirstUse.load, registered: () => registered };
}

test('routes registered on first use load on their first request and answer as if registered at start', async () => {
  const { app, load, registered } = appWithThings(['GET /things/{id}', 'PATCH /things/{id}']);
  assert.deepEqual(await (await app.request('/v1/health')).json(), { ok: true });
  assert.equal(registered(), 0);

  const found = await app.request('/v1/things/t1');
  assert.equal(found.status, 200);
  assert.deepEqual(await found.json(), { id: 't1' });
  // The route's own validation of its path parameters and body.
  assert.equal((await app.request('/v1/things/nope')).status, 400);
  const renamed = await app.request('/v1/things/t1', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'n' }) });
  assert.deepEqual(await renamed.json(), { id: 't1', name: 'n' });
  assert.equal((await app.request('/v1/things/t1', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 400);
  assert.equal(registered(), 1);

  // Their router holds their OpenAPI declarations.
  const paths = (await load()).getOpenAPIDocument({ openapi: '3.0.0', info: { title: 't', version: '1' } }).paths ?? {};
  assert.deepEqual(Object.keys(paths['/things/{id}'] ?? {}).sort(), ['get', 'patch']);
  assert.equal(registered(), 1);
});

test('routes declared for first use that are not the ones registered fail loudly, not with a silent 404', async () => {
  const { app, load } = appWithThings(['GET /things/{id}', 'DELETE /things/{id}']);
  await assert.rejects(load(), /not the ones declared/);
  assert.equal((await app.request('/v1/things/t1')).status, 500);
});
