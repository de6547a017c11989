import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The CLI opens the store without HTTP, so nothing the store loads may come from http/.
const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../backend/src');
const storeDir = join(src, 'store');
const httpDir = join(src, 'http');

/** The backend modules a file imports (static, re-exported and dynamic), read from its import statements. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((imported) => imported.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')));
}

test('no module under store/ imports from http/', () => {
  const offenders = readdirSync(storeDir)
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) => importsOf(join(storeDir, name)).filter((target) => target.startsWith(httpDir + '/')).map((target) => `${name} -> ${relative(src, target)}`));
  assert.deepEqual(offenders, []);
});

test('nothing the store loads, however indirectly, comes from http/', () => {
  const via = new Map<string, string>();
  const pending = readdirSync(storeDir).filter((name) => name.endsWith('.ts')).map((name) => join(storeDir, name));
  for (const file of pending) via.set(file, '');
  for (let file = pending.pop(); file; file = pending.pop()) {
    for (const target of importsOf(file)) {
      if (via.has(target)) continue;
      via.set(target, file);
      pending.push(target);
    }
  }
  const chain = (file: string): string => (via.get(file) ? `${chain(via.get(file)!)} -> ${relative(src, file)}` : relative(src, file));
  const reached = [...via.keys()].filter((file) => file.startsWith(httpDir + '/')).map(chain);
  assert.deepEqual(reached, []);
  assert.ok(via.has(join(src, 'projects/project-document.ts')), 'the walk follows the store into projects/');
});
