import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
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

/** The routes whose body is a file's contents when asked with `?alt=media` (routes/files.ts). */
const mediaRoutes = new Set(['POST /files', 'PUT /files/:key', 'PATCH /files/:key']);

/**
 * Routes that also take text bodies, which the route itself parses, with the media cap: an
 * import reads YAML (Insomnia v5, OpenAPI) and cURL command lines (routes/import.ts).
 */
const textRoutes = new Set(['POST /import']);
const isText = (type: string) => /^(application\/(x-)?yaml|text\/(x-)?yaml|text\/plain)\s*(;|$)/i.test(type);

/** The route a request reached, as `METHOD /path/:param` below the prefix; none when only middleware matched (404, 405). */
function routeOf(c: Context<AppEnv>, prefix: string): string | undefined {
  const route = matchedRoutes(c).filter((candidate) => candidate.method !== METHOD_NAME_ALL).at(-1);
  return route && route.path.startsWith(prefix) ? `${route.method} ${route.path.slice(prefix.length)}` : undefined;
}

const tooLarge = () => new ApiError('payload_too_large', 'The request body is larger than this store accepts.');

/**
 * Bodies are JSON only, size-capped and depth-capped. The cap comes from the route the request
 * reached: a file's contents (`?alt=media` on a media route) up to `mediaBytes`, every other
 * body up to `metadataBytes`. The body is read here, once, straight from Node's request (no
 * Fetch Request is built for it) and put in Hono's body cache, where the route's validator and
 * `c.req.json()` find it. A body that reaches no route is read up to the cap, not parsed.
 */
export function jsonBodies(limits: { metadataBytes: number; mediaBytes: number; jsonDepth: number }, prefix: string): MiddlewareHandler<AppEnv> {
  return async function acceptJsonBody(c, next) {
    if (!hasBody(c)) return next();
    const type = c.req.header('Content-Type');
    const route = routeOf(c, prefix);
    const textRoute = route !== undefined && textRoutes.has(route);
    const text = textRoute && type !== undefined && isText(type);
    if (!text && (!type || !isJson(type))) {
      const accepted = textRoute ? 'JSON, YAML or text' : 'JSON (Content-Type: application/json)';
      throw new ApiError('unsupported_media_type', `Request bodies must be ${accepted}.`);
    }
    const cap = textRoute || (route !== undefined && mediaRoutes.has(route) && c.req.query('alt') === 'media') ? limits.mediaBytes : limits.metadataBytes;
    if (Number(c.req.header('Content-Length')) > cap) throw tooLarge();
    const body = await readBody(c.env.incoming, cap);
    if (route === undefined) return next();
    // A text body is parsed (and depth-checked) by its route.
    if (!text) checkDepth(parseJson(body), limits.jsonDepth);
    // Hono keeps promises in its body cache (`c.req.json()` chains on it), though it types them as values.
    c.req.bodyCache.text = Promise.resolve(body) as unknown as string;
    await next();
  };
}

/**
 * The whole body as text, refused as soon as it passes `cap` bytes. The stream is then paused:
 * the listener reads and discards the rest once the answer is sent (listen.ts).
 */
function readBody(incoming: IncomingMessage, cap: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (settle: () => void) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      settle();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= cap) return void chunks.push(chunk);
      incoming.pause();
      done(() => reject(tooLarge()));
    };
    const onEnd = () => done(() => resolve(Buffer.concat(chunks, size).toString('utf8')));
    const onError = (error: Error) => done(() => reject(error));
    const onClose = () => done(() => reject(new Error('The client closed the request before its body ended.')));
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('malformed_json', 'The request body is not valid JSON.');
  }
}
