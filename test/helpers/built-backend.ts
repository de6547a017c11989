import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { backendBundleOptions, bundleBackend } from '../../build/bundle-backend.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

export interface BuiltBackend {
  /** The temp app folder: package.json, node_modules (a link) and out/backend/. */
  app: string;
  cli: string;
  child: string;
  /** The server module (`startStore`, helpers/bundled-server.ts) bundled as the entries are: what the API tests run on with API_STORE_TEST_BUNDLE. */
  server: string;
  /** A code cache folder inside the app, for API_STORE_CODE_CACHE: the built entries' default is the user's cache folder. */
  codeCache: string;
  remove(): Promise<void>;
}

/** The backend bundled as `npm run build` bundles it, in a temp app folder beside the real node_modules. */
export async function buildBackend(): Promise<BuiltBackend> {
  const app = await mkdtemp(join(tmpdir(), 'api-store-bundle-'));
  const outdir = join(app, 'out/backend');
  await bundleBackend(outdir);
  await build({ ...backendBundleOptions(outdir), entryPoints: { server: fileURLToPath(new URL('bundled-server.ts', import.meta.url)) } });
  await cp(join(repo, 'package.json'), join(app, 'package.json'));
  await symlink(join(repo, 'node_modules'), join(app, 'node_modules'));
  return {
    app,
    cli: join(app, 'out/backend/cli.js'),
    child: join(app, 'out/backend/child.js'),
    server: join(app, 'out/backend/server.cjs'),
    codeCache: join(app, 'code-cache'),
    remove: () => rm(app, { recursive: true, force: true }),
  };
}
