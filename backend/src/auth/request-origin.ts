import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { ApiError } from '../http/problem.js';
import { headerOf, type AppEnv } from '../http/env.js';

const loopbackNames = ['localhost', '127.0.0.1', '[::1]'];

/** The host name of a Host header, without the port; bracketed for IPv6. */
function hostName(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  return end < 0 ? host : host.slice(0, end);
}

/**
 * DNS-rebinding guard for the loopback listener: a page on evil.example that resolves its name
 * to 127.0.0.1 still sends `Host: evil.example`, so only loopback names (and configured extras) pass.
 */
export function allowHosts(extra: string[]): (c: Context<AppEnv>) => void {
  const allowed = new Set([...loopbackNames, ...extra].map((h) => h.toLowerCase()));
  return function checkHost(c) {
    const host = headerOf(c, 'host');
    if (!host || !allowed.has(hostName(host.toLowerCase()))) {
      throw new ApiError('forbidden_host', 'The Host header names a host this store does not serve.');
    }
  };
}

/**
 * Browser contexts must come from an allowed origin; requests without `Origin` (the desktop
 * app's own HTTP clients, scripts) pass. CORS headers are answered only for allowed origins: the
 * check gives the CORS middleware a request from an allowed origin goes through, none without
 * `Origin`, and throws for any other origin.
 */
export function allowOrigins(origins: string[]): (c: Context<AppEnv>) => MiddlewareHandler<AppEnv> | undefined {
  const allowed = new Set(origins);
  const corsHeaders = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'If-Match', 'X-Request-ID'],
    exposeHeaders: ['ETag', 'Location', 'X-Request-ID', 'X-Response-Time'],
    maxAge: 600,
  });
  return function checkOrigin(c) {
    const origin = headerOf(c, 'origin');
    // No Origin, no browser context: skip CORS, whose headers would also cost a full Response per request.
    if (origin === undefined) return undefined;
    if (!allowed.has(origin)) {
      throw new ApiError('forbidden_origin', 'Requests from this origin are not allowed.');
    }
    return corsHeaders;
  };
}
