import { fileURLToPath } from 'node:url';

/**
 * The file the host forks as the backend, resolved from this module's own place: the bundle
 * out/backend/child.js beside out/main/ (build/bundle-backend.ts), or child.ts when this module
 * itself runs from source (under tsx). The one place that names it.
 */
export const backendEntry = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../backend/src/child.ts' : '../backend/child.js', import.meta.url),
);
