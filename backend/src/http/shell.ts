import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from '../logger.js';
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

const isJson = (type: string) => /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type);

/**
 * Bodies are JSON only and size-capped: contents (`?alt=media`) up to `mediaBytes`, everything
 * else up to `metadataBytes`. Parsing is left to the route's validator, which reads the body once:
 * a body that does not parse reaches `onError` as Hono's 400 and becomes `malformed_json`.
 */
export function jsonBodies(limits: { metadataBytes: number; mediaBytes: number }): MiddlewareHandler<AppEnv> {
  const tooLarge = () => {
    throw new ApiError('payload_too_large', 'The request body is larger than this store accepts.');
  };
  const metadata = bodyLimit({ maxSize: limits.metadataBytes, onError: tooLarge });
  const media = bodyLimit({ maxSize: limits.mediaBytes, onError: tooLarge });
  return function acceptJsonBody(c, next) {
    // Decide from headers: touching c.req.raw would make the adapter build a full Request per call.
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    const length = c.req.header('Content-Length');
    if (length === '0' || (length === undefined && c.req.header('Transfer-Encoding') === undefined)) return next();
    const type = c.req.header('Content-Type');
    if (!type || !isJson(type)) {
      throw new ApiError('unsupported_media_type', 'Request bodies must be JSON (Content-Type: application/json).');
    }
    return (c.req.query('alt') === 'media' ? media : metadata)(c, next);
  };
}
