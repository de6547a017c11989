#!/usr/bin/env node
// In a checkout, runs the TypeScript source through tsx, so the CLI is never a stale build;
// where the source is not shipped (a packaged app), runs the bundle in out/backend/.
import { existsSync } from 'node:fs';

const source = new URL('../backend/src/cli.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../out/backend/cli.js', import.meta.url).href);
}
