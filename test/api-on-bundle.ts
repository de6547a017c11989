/**
 * `tsx test/api-on-bundle.ts <test files>`: runs API tests on the backend as it ships, bundled by
 * esbuild with the app's build options, instead of on the TypeScript source.
 */
import { spawn } from 'node:child_process';
import { buildBackend } from './helpers/built-backend.js';

const built = await buildBackend();
try {
  const runner = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, API_STORE_TEST_BUNDLE: built.server },
  });
  process.exitCode = await new Promise<number>((done) => runner.once('exit', (code) => done(code ?? 1)));
} finally {
  await built.remove();
}
