/**
 * The routes that need no credential (method and path below the prefix): store information and
 * the ways to obtain a session.
 */
const openRoutes = [
  'GET /store',
  'POST /sessions',
  'POST /auth/invites/redeem',
  'GET /auth/oidc/login',
  'GET /auth/oidc/callback',
];

/**
 * Whether a request (method, and path with the prefix) needs no credential: the check every
 * request takes, with the open paths joined to the prefix once, not the request's path cut.
 */
export function openRouteCheck(prefix: string): (method: string, path: string) => boolean {
  const methods = new Map<string, Set<string>>();
  for (const route of openRoutes) {
    const [method, path] = route.split(' ');
    methods.set(prefix + path, (methods.get(prefix + path) ?? new Set()).add(method));
  }
  return (method, path) => methods.get(path)?.has(method) === true;
}

/** Whether a route as declared (method, and path below the prefix) needs no credential. */
export const isOpenRoute = openRouteCheck('');
