/**
 * The framework floors of api-store: Hono on @hono/node-server with the request id and the
 * hard-shell headers serving JSON it already holds (no auth, validation or storage), which shows
 * how close to raw node:http api-store could get at best. `hono`: set by Hono's request-id and
 * secure-headers middleware (DESIGN's default way, as api-store's shell did before it set them
 * itself); `shell`: by api-store's own shell middleware.
 */
import { Hono, type Context } from 'hono';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../../backend/src/http/env.js';
import { hardShell } from '../../backend/src/http/shell.js';
import { createLogger } from '../../backend/src/logger.js';

export type FloorKind = 'hono' | 'shell';

export function floorApp(kind: FloorKind, documentOf: (c: Context<AppEnv>) => Promise<string | undefined> | string | undefined): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  if (kind === 'shell') {
    const shell = hardShell(false, createLogger('silent'));
    app.use(async (c, next) => {
      shell.enter(c);
      await next();
      shell.leave(c);
    });
  } else {
    app.use(requestId({ headerName: 'X-Request-ID' }));
    const secure = secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      strictTransportSecurity: false,
      crossOriginOpenerPolicy: false,
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xFrameOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    });
    app.use(async (c, next) => {
      const started = performance.now();
      await secure(c, next);
      c.res.headers.set('Cache-Control', 'no-store');
      c.res.headers.set('X-Response-Time', `${(performance.now() - started).toFixed(2)}ms`);
    });
  }
  app.all('*', async (c) => {
    const body = await documentOf(c);
    return body === undefined ? c.body(null, 404) : c.body(body, 200, { 'Content-Type': 'application/json' });
  });
  return app;
}
