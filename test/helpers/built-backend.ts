import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { backendBuildOptions } from '../../build/bundle-backend.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

export interface BuiltBackend {
  /** The temp app folder: package.json, node_modules (a link) and out/backend/. */
  app: string;
  cli: string;
  child: string;
  /**
   * The server module (`startStore`) as the entries bundle it: what the API tests run on with
   * API_STORE_TEST_BUNDLE. `open-errors.js` beside it is the store's errors of that same bundle.
   */
  server: string;
  remove(): Promise<void>;
}

/** The backend bundled as `npm run build` bundles it, in a temp app folder beside the real node_modules. */
export async function buildBackend(): Promise<BuiltBackend> {
  const app = await mkdtemp(join(tmpdir(), 'api-store-bundle-'));
  const options = backendBuildOptions(join(app, 'out/backend'));
  const source = (path: string) => fileURLToPath(new URL(`../../backend/src/${path}`, import.meta.url));
  const entryPoints = { ...(options.entryPoints as Record<string, string>), server: source('server.ts'), 'open-errors': source('store/open-errors.ts') };
  await build({ ...options, entryPoints });
  await cp(join(repo, 'package.json'), join(app, 'package.json'));
  await symlink(join(repo, 'node_modules'), join(app, 'node_modules'));
  return {
    app,
    cli: join(app, 'out/backend/cli.js'),
    child: join(app, 'out/backend/child.js'),
    server: join(app, 'out/backend/server.js'),
    remove: () => rm(app, { recursive: true, force: true }),
  };
}
