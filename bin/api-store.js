#!/usr/bin/env node
// Runs the compiled CLI in a build, the TypeScript source in a clone (through tsx).
import { existsSync } from 'node:fs';

const compiled = new URL('../out/backend/src/cli.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../backend/src/cli.ts');
}
