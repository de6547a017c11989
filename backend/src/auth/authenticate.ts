import type { Context } from 'hono';
import { ApiError } from '../http/problem.js';
import type { Authenticator, Caller } from './caller.js';
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
 * It is synchronous when the authenticator is (the launch token): a promise only for the ones that are not.
 */
export function authenticate(options: {
  authenticator: Authenticator;
  open: (method: string, path: string) => boolean;
  allowQueryToken: (path: string) => boolean;
}): (c: Context<AppEnv>) => Promise<void> | undefined {
  const admit = (c: Context<AppEnv>, caller: Caller | undefined) => {
    if (!caller) {
      throw new ApiError('unauthorized', 'A valid bearer token is required.', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    c.set('caller', caller);
  };
  return function authenticateCaller(c) {
    const path = c.req.path;
    if (options.open(c.req.method, path)) return;
    const authorization = headerOf(c, 'authorization');
    // The query is read only where its token would count.
    const allowQuery = authorization === undefined && options.allowQueryToken(path);
    const credential = credentialOf(authorization, allowQuery ? c.req.query('token') : undefined, allowQuery);
    const caller = credential ? options.authenticator(credential) : undefined;
    if (caller instanceof Promise) return caller.then((found) => admit(c, found));
    admit(c, caller);
  };
}
