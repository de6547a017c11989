import type { Context, Handler, Next } from 'hono';
import type { Api, AppEnv } from './env.js';

/** Routes registered on first use (`routesOnFirstUse`). */
export interface RoutesOnFirstUse {
  /** Registers stand-ins for `routes` (`POST /proxy`, `GET /files/{key}/users`), at this place in the route order. */
  declare(routes: readonly string[]): void;
  /** Loads the routes (once) and gives the router they are registered on, for its OpenAPI declarations. */
  load(): Promise<Api>;
}

/** `/files/{key}` → `/files/:key`, as @hono/zod-openapi registers an OpenAPI path. */
const honoPath = (path: string) => path.replaceAll(/\/{(.+?)}/g, '/:$1');

/** Runs a route's handlers (its middleware, validators and handler) as Hono runs them, on the request's own context. */
async function runChain(handlers: Handler<AppEnv>[], c: Context<AppEnv>, next: Next): Promise<void> {
  const dispatch = async (index: number): Promise<void> => {
    if (index === handlers.length) return next();
    const response = await handlers[index](c, () => dispatch(index + 1));
    if (response && !c.finalized) c.res = response;
  };
  await dispatch(0);
}

/**
 * Routes whose module loads, and whose routes register, on the first request to one of them:
 * building their schemas and routes at start would cost every start for routes most sessions
 * never call. Each declared route gets a stand-in on `api` with the route's own method and path:
 * Hono's router takes no route once it has matched a request, and the same path keeps what depends
 * on the matched route (path parameters, the shell's body rules, the 405 answers) as it was. The
 * first request to one of them runs `register` on a router of their own (`newApi`), never matched,
 * and every request runs the matched route's handlers from there on the request's own context.
 */
export function routesOnFirstUse(api: Api, newApi: () => Api, register: (routesApi: Api) => Promise<void>): RoutesOnFirstUse {
  const declared = new Set<string>();
  let loading: Promise<{ routesApi: Api; chains: Map<string, Handler<AppEnv>[]> }> | undefined;
  const load = () =>
    (loading ??= (async () => {
      const routesApi = newApi();
      await register(routesApi);
      const chains = new Map<string, Handler<AppEnv>[]>();
      for (const route of routesApi.routes) {
        const key = `${route.method} ${route.path}`;
        chains.set(key, [...(chains.get(key) ?? []), route.handler as Handler<AppEnv>]);
      }
      // A route registered but not declared would be unreachable; a declared one without its route, a 500.
      if (chains.size !== declared.size || [...declared].some((route) => !chains.has(route))) {
        throw new Error(`The routes registered on first use (${[...chains.keys()].join(', ')}) are not the ones declared (${[...declared].join(', ')}).`);
      }
      return { routesApi, chains };
    })());
  return {
    declare(routes) {
      for (const route of routes) {
        const [method, path] = route.split(' ');
        const key = `${method} ${honoPath(path)}`;
        declared.add(key);
        api.on(method, honoPath(path), async (c, next) => runChain((await load()).chains.get(key)!, c, next));
      }
    },
    load: async () => (await load()).routesApi,
  };
}
