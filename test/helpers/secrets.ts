import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A plaintext secret for a test: random, so no compression (LevelDB's snappy) can hide a copy of it. */
export const plaintext = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

/** A project document with one environment whose variables are given; `secret: true` marks secret ones. */
export function projectWith(variables: { name: string; value: unknown; secret?: boolean }[], requests: { key: string; url: string; headers?: string }[] = []) {
  return {
    kind: 'Core#HttpProject',
    info: { name: 'secrets project' },
    items: requests.map((request) => ({ kind: 'Core#ProjectRequest', key: request.key })),
    definitions: {
      environments: [{ kind: 'Core#Environment', key: 'env1', info: { name: 'default' }, variables: variables.map((variable) => ({ kind: 'Core#Property', type: 'string', enabled: true, ...variable })) }],
      requests: requests.map((request) => ({
        kind: 'Core#ProjectRequest', key: request.key, info: { name: request.key },
        expects: { kind: 'Core#HttpRequest', url: request.url, method: 'GET', headers: request.headers ?? '' },
      })),
    },
  };
}

/** Every file below `dir`, recursively. */
export async function filesBelow(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesBelow(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

/** Reads the raw bytes of every file below `dir` (LevelDB's .log, .ldb, MANIFEST, backups...) and fails on any plaintext found. */
export async function assertNotInFiles(dir: string, values: string[]): Promise<number> {
  const files = await filesBelow(dir);
  for (const file of files) {
    const bytes = await readFile(file);
    for (const value of values) {
      assert.equal(bytes.includes(Buffer.from(value)), false, `${value} is in clear in ${file}`);
      // JSON may escape, and UTF-16 would spread it: neither form may be there either.
      assert.equal(bytes.includes(Buffer.from(value, 'utf16le')), false, `${value} is in ${file} as UTF-16`);
    }
  }
  return files.length;
}

export const assertNotIn = (text: string, values: string[], where: string) => {
  for (const value of values) assert.equal(text.includes(value), false, `${value} is in ${where}`);
};
