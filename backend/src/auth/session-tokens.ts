import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readPrivateFile, writePrivateFile } from '../data-dir.js';
import type { Clock } from '../store/store.js';

/** The audience of every session token; a token for another audience is not a session. */
export const SESSION_AUDIENCE = 'urn:api-client';

export interface SessionClaims {
  /** The session record's id (the token's `jti`). */
  session: string;
  user: string;
}

export interface SessionTokens {
  issue(claims: SessionClaims & { expires: number }): Promise<string>;
  /** The claims of a well-formed, correctly signed, unexpired token for our audience; otherwise undefined. */
  verify(token: string): Promise<SessionClaims | undefined>;
}

/**
 * HS256 session JWTs; `clock` decides what "expired" means (tests move it). jose loads on the first
 * token: a single-user store never needs it, and it is not on the start path.
 */
export function createSessionTokens(key: Uint8Array, clock: Clock): SessionTokens {
  return {
    async issue({ session, user, expires }) {
      const { SignJWT } = await import('jose');
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user)
        .setJti(session)
        .setAudience(SESSION_AUDIENCE)
        .setIssuedAt(Math.floor(clock() / 1000))
        .setExpirationTime(Math.floor(expires / 1000))
        .sign(key);
    },
    async verify(token) {
      try {
        const { jwtVerify } = await import('jose');
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          audience: SESSION_AUDIENCE,
          requiredClaims: ['sub', 'jti', 'exp'],
          currentDate: new Date(clock()),
        });
        return { session: payload.jti!, user: payload.sub! };
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * The signing key: the operator's `--session-secret` when given, else 32 random bytes generated
 * once and kept in `<dataDir>/session.key` with mode 0600 (never in the store's own data). A key
 * that another user could have planted is refused: it would let them forge sessions.
 */
export async function loadSessionKey(dataDir: string, configured?: string): Promise<Uint8Array> {
  if (configured) return new TextEncoder().encode(configured);
  const file = join(dataDir, 'session.key');
  try {
    return Buffer.from((await readPrivateFile(file)).trim(), 'base64url');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  // Two starts cannot race here: the caller holds the store's LevelDB lock.
  await writePrivateFile(file, key.toString('base64url') + '\n');
  return key;
}
