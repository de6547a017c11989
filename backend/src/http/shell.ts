import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { METHOD_NAME_ALL } from 'hono/router';
import { matchedRoutes } from 'hono/route';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from '../logger.js';
import { checkDepth } from '../store/document-limits.js';
import type { AppEnv } from './env.js';
import { ApiError } from './problem.js';

/**
 * The hard-shell headers of DESIGN.md (HSTS only where the listener speaks TLS), the response
 * time, and one JSON log line per request (method, path but never the query, which may hold a
 * token, status, time): header and log line come from the one measurement.
 */
export function hardShell(tls: boolean, log: Logger): MiddlewareHandler<AppEnv> {
  // Only the headers DESIGN.md asks for: a JSON API has no use for the legacy browser ones
  // (X-Frame-Options is covered by frame-ancestors), and every header set costs per request.
  const secure = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    strictTransportSecurity: tls ? 'max-age=31536000' : false,
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  return async function hardShellHeadersAndLog(c, next) {
    const started = performance.now();
    await secure(c, next);
    const ms = (performance.now() - started).toFixed(2);
    c.res.headers.set('Cache-Control', 'no-store');
    c.res.headers.set('X-Response-Time', `${ms}ms`);
    log.info('request', { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, ms: Number(ms) });
  };
}

export const isJson = (type: string) => /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type);

/** Whether a request carries a body, from its headers alone: touching c.req.raw would make the adapter build a full Request. */
export function hasBody(c: Context<AppEnv>): boolean {
  const method = c.req.method;
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
  const length = c.req.header('Content-Length');
  return !(length === '0' || (length === undefined && c.req.header('Transfer-Encoding') === undefined));
}

/**
 * The routes whose body is a file's contents when asked with `?alt=media` (routes/files.ts).
 * `anyType`: the contents may be of any type; a body that is not JSON reaches the route unparsed.
 */
const mediaRoutes = new Map<string, { anyType: boolean }>([
  ['POST /files', { anyType: false }],
  ['PUT /files/:key', { anyType: true }],
  ['PATCH /files/:key', { anyType: false }],
]);

/** The route a request reached, as `METHOD /path/:param` below the prefix; none when only middleware matched (404, 405). */
function routeOf(c: Context<AppEnv>, prefix: string): string | undefined {
  const route = matchedRoutes(c).filter((candidate) => candidate.method !== METHOD_NAME_ALL).at(-1);
  return route && route.path.startsWith(prefix) ? `${route.method} ${route.path.slice(prefix.length)}` : undefined;
}

const megabytes = (bytes: number) => `${Math.round((bytes / (1024 * 1024)) * 100) / 100} MB`;

/**
 * Bodies are size-capped and, but for contents of any type, JSON only and depth-capped. The cap
 * comes from the route the request reached: a file's contents (`?alt=media` on a media route) up
 * to `mediaBytes`, every other body up to `metadataBytes`. A JSON body is parsed here, once: the
 * route's validator and `c.req.json()` read the parsed value from Hono's body cache. A body that
 * reaches no route is not read at all.
 */
export function jsonBodies(limits: { metadataBytes: number; mediaBytes: number; jsonDepth: number }, prefix: string): MiddlewareHandler<AppEnv> {
  const capOf = (maxSize: number, what: string) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError('payload_too_large', `The request body is larger than ${maxSize} bytes (${megabytes(maxSize)}), the most this store accepts for ${what}.`, {
          extra: { limit: maxSize },
        });
      },
    });
  const metadata = capOf(limits.metadataBytes, 'this request');
  const media = capOf(limits.mediaBytes, 'a file’s contents');
  return function acceptJsonBody(c, next) {
    if (!hasBody(c)) return next();
    const route = routeOf(c, prefix);
    const contents = route !== undefined && c.req.query('alt') === 'media' ? mediaRoutes.get(route) : undefined;
    const type = c.req.header('Content-Type');
    if (!type || !isJson(type)) {
      if (contents?.anyType) return media(c, next);
      throw new ApiError('unsupported_media_type', 'Request bodies must be JSON (Content-Type: application/json).');
    }
    return (contents ? media : metadata)(c, async () => {
      if (route !== undefined) checkDepth(await parsedBody(c), limits.jsonDepth);
      await next();
    });
  };
}

async function parsedBody(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new ApiError('malformed_json', 'The request body is not valid JSON.');
  }
}
