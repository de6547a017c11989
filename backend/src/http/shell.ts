import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../logger.js';
import type { AppEnv } from './env.js';
import { ApiError } from './problem.js';

/**
 * A request header as Node parsed it (`name` in lower case). Hono's `c.req.header()` makes the
 * adapter copy every incoming header into a Fetch `Headers` object first, a cost per request.
 */
export function requestHeader(c: Context<AppEnv>, name: Lowercase<string>): string | undefined {
  const value = c.env.incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Hono's requestId rule: a client's id is echoed when it is short and made of [A-Za-z0-9_=-]. */
const validRequestId = (id: string | undefined): id is string => id !== undefined && id.length > 0 && id.length <= 255 && !/[^\w\-=]/.test(id);

/**
 * The hard-shell headers of DESIGN.md, the request id and the response time, on every response
 * (errors, 404 and 405 included); HSTS only where the listener speaks TLS.
 *
 * They are set on Node's own response, which writes them with whatever the route answers. Hono's
 * secureHeaders and requestId middleware set them through Fetch `Headers` after the route, which
 * cost ≈ 6 µs of CPU per request (CPU profile, GET /v1/files/{key}).
 */
export function shellHeaders(tls: boolean): MiddlewareHandler<AppEnv> {
  const constant: [string, string][] = [
    ['Cache-Control', 'no-store'],
    ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Content-Type-Options', 'nosniff'],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
    ...(tls ? [['Strict-Transport-Security', 'max-age=31536000'] as [string, string]] : []),
  ];
  return async function shellHeadersAndTiming(c, next) {
    const started = performance.now();
    const given = requestHeader(c, 'x-request-id');
    const id = validRequestId(given) ? given : randomUUID();
    c.set('requestId', id);
    // A WebSocket upgrade has no response object here: the socket layer answers it itself.
    const res = c.env.outgoing;
    if (res) {
      for (const [name, value] of constant) res.setHeader(name, value);
      res.setHeader('X-Request-ID', id);
    }
    await next();
    res?.setHeader('X-Response-Time', `${(performance.now() - started).toFixed(2)}ms`);
  };
}

/** One JSON log line per request: method, path (never the query, which may hold a token), status, time. */
export function requestLog(log: Logger): MiddlewareHandler<AppEnv> {
  return async function logRequest(c, next) {
    const started = performance.now();
    await next();
    log.info('request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Number((performance.now() - started).toFixed(2)),
    });
  };
}

const isJson = (type: string) => /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type);

/**
 * Bodies are JSON only and size-capped: contents (`?alt=media`) up to `mediaBytes`, everything
 * else up to `metadataBytes`. The body is parsed here, once, so malformed JSON is a 400 for every
 * route and the validators reuse Hono's parsed-body cache.
 */
export function jsonBodies(limits: { metadataBytes: number; mediaBytes: number }): MiddlewareHandler<AppEnv> {
  const tooLarge = () => {
    throw new ApiError('payload_too_large', 'The request body is larger than this store accepts.');
  };
  const metadata = bodyLimit({ maxSize: limits.metadataBytes, onError: tooLarge });
  const media = bodyLimit({ maxSize: limits.mediaBytes, onError: tooLarge });
  return async function acceptJsonBody(c, next) {
    // Decide from headers: touching c.req.raw would make the adapter build a full Request per call.
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    if (requestHeader(c, 'content-length') === undefined && requestHeader(c, 'transfer-encoding') === undefined) return next();
    const type = requestHeader(c, 'content-type');
    const limit = c.req.query('alt') === 'media' ? media : metadata;
    return limit(c, async () => {
      const text = await c.req.text();
      if (text.length === 0) return next();
      if (!type || !isJson(type)) {
        throw new ApiError('unsupported_media_type', 'Request bodies must be JSON (Content-Type: application/json).');
      }
      try {
        JSON.parse(text);
      } catch {
        throw new ApiError('malformed_json', 'The request body is not valid JSON.');
      }
      return next();
    });
  };
}
