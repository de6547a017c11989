import { fileURLToPath } from 'node:url';

/**
 * The file the host forks as the backend, resolved from this module's own place: the compiled
 * child.js beside out/main/, or child.ts when this module itself runs from source (under tsx).
 * The one place that names it, so the build can point it elsewhere.
 */
export const backendEntry = fileURLToPath(new URL(`../backend/src/child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
