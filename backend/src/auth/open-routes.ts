/**
 * The routes that need no credential (method and path below the prefix): store information and
 * the ways to obtain a session.
 */
const openRoutes = new Set([
  'GET /store',
  'POST /sessions',
  'POST /auth/invites/redeem',
  'GET /auth/oidc/login',
  'GET /auth/oidc/callback',
]);

export function isOpenRoute(prefix: string, method: string, path: string): boolean {
  return path.startsWith(prefix) && openRoutes.has(`${method} ${path.slice(prefix.length)}`);
}
