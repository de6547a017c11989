import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { filesBelow, filesHolding } from './raw-scan.js';

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

/** Reads the raw bytes of every file below `dir` (LevelDB's .log, .ldb, MANIFEST, backups...) and fails on any plaintext found; the count of files read. */
export async function assertNotInFiles(dir: string, values: string[]): Promise<number> {
  assert.deepEqual(Object.fromEntries(await filesHolding(dir, values)), {}, 'values in clear (UTF-8 or UTF-16) in these files');
  return (await filesBelow(dir)).length;
}

export const assertNotIn = (text: string, values: string[], where: string) => {
  for (const value of values) assert.equal(text.includes(value), false, `${value} is in ${where}`);
};
