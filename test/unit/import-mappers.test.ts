import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { detectFormat } from '../../backend/src/projects/import/detect.js';
import { planImport } from '../../backend/src/projects/import/index.js';
import { headerPairs, headersText } from '../../backend/src/projects/project-builder.js';
import { projectDocumentSchema } from '../../backend/src/projects/project-document.js';
import { projectToPostman } from '../../backend/src/projects/export/postman.js';
import { fixture, fixturesDir, typeOf } from '../helpers/projects.js';

const sourceOf = (name: string) => (typeOf(name) === 'application/json' ? { json: JSON.parse(fixture(name)) } : { text: fixture(name) });
const fixtures = readdirSync(fixturesDir).filter((name) => name !== 'README.md');

const formats: Record<string, string> = {
  'curl-complex.sh': 'curl',
  'har-deep.json': 'har-1.2',
  'insomnia-v4.json': 'insomnia-v4',
  'insomnia-v5-variable-inheritance.yaml': 'insomnia-v5',
  'openapi3-petstore.yaml': 'openapi-3',
  'postman-environment.json': 'postman-environment',
  'postman-v2.0-basic-auth.json': 'postman-collection-v2.0',
  'postman-v2.0-complex.json': 'postman-collection-v2.0',
  'postman-v2.1-bearer-token.json': 'postman-collection-v2.1',
  'postman-v2.1-complex.json': 'postman-collection-v2.1',
  'postman-v2.1-scripts.json': 'postman-collection-v2.1',
  'swagger2-petstore.json': 'swagger-2.0',
};

describe('import mappers', () => {
  test('every fixture has a known format', () => assert.deepEqual(fixtures.sort(), Object.keys(formats).sort()));

  for (const name of fixtures) {
    test(`${name}: detected as ${formats[name]}, mapped to valid project documents`, async () => {
      assert.equal((await detectFormat(sourceOf(name), 100)).format, formats[name]);
      const plan = await planImport(sourceOf(name), 100);
      assert.ok(plan.files.length >= 1);
      for (const file of plan.files) {
        const parsed = projectDocumentSchema.safeParse(file.contents);
        assert.ok(parsed.success, JSON.stringify(parsed.error?.issues.slice(0, 3)));
        // Every item of the tree names a definition of its kind.
        const document = parsed.data!;
        const keys = new Set([...(document.definitions.requests ?? []), ...(document.definitions.folders ?? []), ...(document.definitions.environments ?? [])].map((d) => `${d.kind}:${d.key}`));
        const items = [...document.items, ...(document.definitions.folders ?? []).flatMap((f) => f.items)];
        for (const item of items) assert.ok(keys.has(`${item.kind}:${item.key}`), `${item.kind} ${item.key}`);
        // Every project maps to a Postman collection without throwing.
        assert.ok(Array.isArray(projectToPostman(document).item));
      }
    });
  }

  test('a source of a known format but unexpected shapes is an import_failed, never an unhandled error', async () => {
    const odd = [
      { info: { name: 'x', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' }, item: [42, null, { item: 'x' }, { request: 7 }] },
      { _type: 'export', __export_format: 4, resources: [{ _type: 'workspace', _id: 'w' }, { _type: 'request', _id: 'r', parentId: 'w', headers: 'x', body: 5, url: 3 }] },
      { type: 'collection.insomnia.rest/5.0', collection: [{ children: 'x' }, { url: 1, headers: {} }], environments: 'x' },
      { log: { entries: [null, { request: { method: 'GET', url: 'x', headers: 'nope', cookies: {} } }] } },
      { openapi: '3.0.0', info: { title: 't', version: '1' }, paths: { '/a': { get: { parameters: 'x', requestBody: { content: 5 } } } } },
      { name: 'env', values: [null, { key: 1 }] },
    ];
    for (const value of odd) {
      try {
        await planImport({ json: value }, 100);
      } catch (error) {
        assert.ok((error as { code?: string }).code?.startsWith('import_'), `${JSON.stringify(value).slice(0, 60)}: ${(error as Error).message}`);
      }
    }
  });

  test('headers: core’s header string and name/value pairs convert both ways', () => {
    const pairs = [{ name: 'Accept', value: 'application/json' }, { name: 'X-Empty', value: '' }, { name: 'X-Colon', value: 'a: b' }];
    assert.deepEqual(headerPairs(headersText(pairs)), pairs);
    assert.deepEqual(headerPairs('A: 1\r\n\r\nB:2\nnovalue'), [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'novalue', value: '' }]);
    assert.deepEqual(headerPairs(undefined), []);
  });

  test('YAML is refused when nested deeper than the JSON cap, and aliases do not expand without bound', async () => {
    const deep = `${Array.from({ length: 120 }, (_, i) => `${'  '.repeat(i)}k:`).join('\n')} 1\n`;
    await assert.rejects(planImport({ text: `openapi: 3.0.0\n${deep}` }, 100), (error: Error & { code?: string }) => error.code === 'too_deep');
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [*${'abcdefghij'[i]}, *${'abcdefghij'[i]}, *${'abcdefghij'[i]}, *${'abcdefghij'[i]}, *${'abcdefghij'[i]}, *${'abcdefghij'[i]}, *${'abcdefghij'[i]}, *${'abcdefghij'[i]}, *${'abcdefghij'[i]}, *${'abcdefghij'[i]}]`)].join('\n');
    await assert.rejects(planImport({ text: `openapi: 3.0.0\n${bomb}\n` }, 100), (error: Error & { code?: string }) => error.code === 'import_failed');
  });
});
