import type { Context } from 'hono';
import { ApiError } from '../http/problem.js';
import type { Authenticator } from './caller.js';
import { headerOf, type AppEnv } from '../http/env.js';

/** Reads `Authorization: Bearer <token>`; `?token=` is accepted only where `allowQuery` says (WebSocket upgrades). */
export function credentialOf(authorization: string | undefined, queryToken: string | undefined, allowQuery: boolean): string | undefined {
  if (authorization !== undefined) {
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(authorization);
    return match?.[1];
  }
  return allowQuery ? queryToken : undefined;
}

/**
 * Every request needs a credential the listener's authenticator accepts, except the routes in
 * `open` (method and path below the prefix): the check sets the request's caller, or throws 401.
 */
export function authenticate(options: {
  authenticator: Authenticator;
  open: (method: string, path: string) => boolean;
  allowQueryToken: (path: string) => boolean;
}): (c: Context<AppEnv>) => Promise<void> {
  return async function authenticateCaller(c) {
    const path = c.req.path;
    if (options.open(c.req.method, path)) return;
    const credential = credentialOf(headerOf(c, 'authorization'), c.req.query('token'), options.allowQueryToken(path));
    const caller = credential ? await options.authenticator(credential) : undefined;
    if (!caller) {
      throw new ApiError('unauthorized', 'A valid bearer token is required.', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    c.set('caller', caller);
  };
}
