import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestStore } from './store.js';

type Json = Record<string, any>;

export const fixturesDir = join(import.meta.dirname, '..', 'fixtures', 'import');
export const fixture = (name: string) => readFileSync(join(fixturesDir, name), 'utf8');

/** The content type a fixture is sent with, from its extension. */
export const typeOf = (name: string) => (name.endsWith('.json') ? 'application/json' : name.endsWith('.sh') ? 'text/plain' : 'application/yaml');

export async function importFile(store: TestStore, body: string, type: string, parent?: string): Promise<Response> {
  return store.api(`/import${parent ? `?parent=${parent}` : ''}`, { method: 'POST', body, headers: { 'Content-Type': type } });
}

export async function importOk(store: TestStore, name: string, parent?: string): Promise<Json> {
  const response = await importFile(store, fixture(name), typeOf(name), parent);
  const report = (await response.json()) as Json;
  assert.equal(response.status, 201, JSON.stringify(report));
  return report;
}

export async function contentsOf(store: TestStore, key: string): Promise<Json> {
  const response = await store.api(`/files/${key}?alt=media`);
  assert.equal(response.status, 200);
  return (await response.json()) as Json;
}

export async function createSpace(store: TestStore, name: string, parent?: string): Promise<Json> {
  const response = await store.api(`/files${parent ? `?parent=${parent}` : ''}`, { method: 'POST', body: { kind: 'Core#Space', info: { name } } });
  assert.equal(response.status, 201);
  return (await response.json()) as Json;
}

export interface FlatRequest {
  /** Folder names from the project root. */
  path: string[];
  name: string;
  method: string;
  url: string;
  headers: string;
  payload: unknown;
}

/** A project document's requests in tree order, with their folder path. */
export function flatten(document: Json): FlatRequest[] {
  const requests = new Map((document.definitions.requests ?? []).map((r: Json) => [r.key, r]));
  const folders = new Map((document.definitions.folders ?? []).map((f: Json) => [f.key, f]));
  const out: FlatRequest[] = [];
  const walk = (items: Json[], path: string[]) => {
    for (const item of items) {
      if (item.kind === 'Core#ProjectFolder') {
        const folder = folders.get(item.key) as Json;
        walk(folder.items, [...path, folder.info.name]);
      } else if (item.kind === 'Core#ProjectRequest') {
        const request = requests.get(item.key) as Json;
        out.push({ path, name: request.info.name, method: request.expects.method, url: request.expects.url, headers: request.expects.headers ?? '', payload: request.expects.payload });
      }
    }
  };
  walk(document.items, []);
  return out;
}
