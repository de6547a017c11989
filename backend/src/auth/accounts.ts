import type { StoreConfig } from '../config.js';
import { memoryAttemptState } from '../store/attempt-state.js';
import { isShared } from '../store/storage.js';
import type { Store } from '../store/store.js';
import { ApiError } from '../http/problem.js';
import type { Authenticator, Caller } from './caller.js';
import { createOidcClient, type OidcClient } from './oidc.js';
import { LoginThrottle } from './login-throttle.js';
import { RateLimiter } from './rate-limit.js';
import { createSessionTokens, loadSessionKey, type SessionTokens } from './session-tokens.js';
import { getSession } from '../store/sessions.js';
import { getUser } from '../store/users.js';

/** Attempts per address per window before login or invite redemption answers 429. */
const attemptWindowMs = 15 * 60 * 1000;
const attemptsPerAddress = 20;

/** What the multi-user routes share: session tokens and the attempt counters. */
export interface Accounts {
  tokens: SessionTokens;
  sessionLifetimeMs: number;
  /** Login and invite attempts per client address, counted before the body is read. */
  attemptsByAddress: RateLimiter;
  /** Login failures per user name and address, and the growing delay per user name, so many addresses cannot guess one password together. */
  logins: LoginThrottle;
  /** The OpenID Connect client when `auth.type` is `oidc`. */
  oidc?: OidcClient;
}

export async function openAccounts(config: StoreConfig, store: Store): Promise<Accounts> {
  // Instances sharing one database take the key from it, so a session made on one is valid on all.
  const key = isShared(store.storage) && !config.auth.sessionSecret ? await store.secret('session') : await loadSessionKey(config.dataDir, config.auth.sessionSecret);
  const clock = store.clock;
  const state = isShared(store.storage) ? store.storage.attempts : memoryAttemptState();
  const oidc = config.auth.type === 'oidc' ? config.auth.oidc : undefined;
  return {
    oidc: oidc && createOidcClient({ ...oidc, redirectUri: `${oidc.redirectBase.replace(/\/$/, '')}${config.prefix}/auth/oidc/callback` }, clock),
    tokens: createSessionTokens(key, clock),
    sessionLifetimeMs: config.auth.sessionLifetimeSeconds * 1000,
    attemptsByAddress: new RateLimiter({ name: 'address', limit: attemptsPerAddress, windowMs: attemptWindowMs, clock, state }),
    logins: new LoginThrottle({
      clock,
      state,
      windowMs: attemptWindowMs,
      failuresPerAddress: 10,
      freeFailures: 5,
      firstDelayMs: 1000,
      maxDelayMs: 5 * 60 * 1000,
      trustMs: 30 * 24 * 60 * 60 * 1000,
    }),
  };
}

/**
 * Accepts a session token whose session record still exists and has not expired. `adminAllowed`
 * is false on the desktop's LAN listener: administration happens only on the owner's loopback.
 */
export function sessionAuthenticator(accounts: Accounts, store: Store, options: { adminAllowed: boolean }): Authenticator {
  return async (credential) => {
    const claims = await accounts.tokens.verify(credential);
    if (!claims) return undefined;
    const session = await getSession(store.storage, claims.session);
    if (!session || session.user !== claims.user || session.expires <= store.clock()) return undefined;
    const user = await getUser(store.storage, session.user);
    if (!user) return undefined;
    return { user: user.key, admin: options.adminAllowed && user.admin, session: session.id };
  };
}

/** Admin-only routes refuse everyone else, including any caller on the desktop's LAN listener. */
export function requireAdmin(caller: Caller): void {
  if (!caller.admin) throw new ApiError('admin_only', 'Only an admin of this store may do this.');
}
