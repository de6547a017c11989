import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/env.js';
import { ApiError } from '../http/problem.js';
import type { RateLimiter } from './rate-limit.js';

/** Answers 429 with `Retry-After` when there is a wait (in seconds). */
export function refuseWhileWaiting(wait: number | undefined): void {
  if (wait !== undefined) {
    throw new ApiError('too_many_attempts', `Too many attempts; try again in ${wait} seconds.`, { headers: { 'Retry-After': String(wait) } });
  }
}

export function clientAddress(c: Context): string {
  return getConnInfo(c).remote.address ?? 'unknown';
}

/** Route middleware: counts every attempt from the client's address, before the body is validated. */
export function attemptsByAddress(limiter: RateLimiter): MiddlewareHandler<AppEnv> {
  return async function countAddressAttempt(c, next) {
    refuseWhileWaiting(await limiter.hit(clientAddress(c)));
    return next();
  };
}
