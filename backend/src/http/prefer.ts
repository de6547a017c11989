import type { Context } from 'hono';
import { headerOf, setResponseHeader, type AppEnv } from './env.js';

/**
 * `Prefer: return=minimal` (RFC 7240): the client does not want the changed document back, only
 * what it cannot know (the version and the revert). When honoured, the answer says so in
 * `Preference-Applied`.
 */
export function prefersMinimal(c: Context<AppEnv>): boolean {
  const prefer = headerOf(c, 'prefer');
  if (!prefer) return false;
  const minimal = prefer.split(',').some((preference) => /^\s*return\s*=\s*"?minimal"?\s*(;|$)/i.test(preference));
  if (minimal) setResponseHeader(c, 'Preference-Applied', 'return=minimal');
  return minimal;
}
