import type { Context } from 'hono';
import type { AppEnv } from './env.js';
import { ApiError } from './problem.js';

/**
 * At most `perUser` requests of one signed-in user in flight on this listener: one teammate's
 * slow or endless requests (uploads, proxied calls) cannot take every connection and worker of
 * a shared store. Runs after authentication; open routes have no caller and are not counted.
 * A request counts from its headers until its handler has answered (a streamed body may still
 * be on its way to the client): `run` is the rest of the request's handling.
 */
export function limitConcurrentRequests(perUser: number): (c: Context<AppEnv>, run: () => Promise<unknown>) => Promise<unknown> {
  const inFlight = new Map<string, number>();
  return async function limitRequestsPerUser(c, run) {
    const user = c.get('caller')?.user;
    if (user === undefined) return run();
    const count = inFlight.get(user) ?? 0;
    if (count >= perUser) {
      // The refused body is never read: closing the connection keeps the client from sending its next request behind it.
      throw new ApiError('too_many_requests', `You have ${perUser} requests in progress already: wait for one to finish.`, {
        headers: { 'Retry-After': '1', Connection: 'close' },
      });
    }
    inFlight.set(user, count + 1);
    try {
      await run();
    } finally {
      const left = (inFlight.get(user) ?? 1) - 1;
      if (left > 0) inFlight.set(user, left);
      else inFlight.delete(user);
    }
  };
}
