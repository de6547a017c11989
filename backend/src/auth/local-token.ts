import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LOCAL_OWNER, type Authenticator } from './caller.js';

/** A fresh launch token: 32 random bytes, URL-safe. */
export function createLaunchToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Accepts exactly the launch token, compared in constant time (digests have equal length). */
export function localTokenAuthenticator(token: string): Authenticator {
  const expected = createHash('sha256').update(token).digest();
  return (credential) => {
    const given = createHash('sha256').update(credential).digest();
    return timingSafeEqual(given, expected) ? { user: LOCAL_OWNER, admin: true } : undefined;
  };
}
