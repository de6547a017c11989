import { createHash, randomBytes } from 'node:crypto';
import type { createRemoteJWKSet } from 'jose';
import { z } from 'zod';
import { ApiError } from '../http/problem.js';
import type { Clock } from '../store/store.js';

export interface OidcSettings {
  issuerUri: string;
  clientId: string;
  clientSecret: string;
  /** Where the provider sends the browser back: `<redirectBase><prefix>/auth/oidc/callback`. */
  redirectUri: string;
}

/** Who signed in, as the verified ID token says. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  name: string;
}

export interface OidcClient {
  /** Starts a login: the provider's authorization URL, with fresh state, nonce and PKCE challenge. */
  authorizationUrl(): Promise<string>;
  /** Finishes a login: spends the state, exchanges the code, verifies the ID token and its nonce. */
  callback(query: { code: string; state: string }): Promise<OidcIdentity>;
}

const discoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
});
const tokenResponseSchema = z.object({ id_token: z.string() });

/** A login not yet finished; it dies after this long or when its callback arrives. */
const pendingLifetimeMs = 10 * 60 * 1000;
const maxPending = 1000;

const random = () => randomBytes(32).toString('base64url');
const failed = (detail: string) => new ApiError('oidc_login_failed', detail);

/**
 * The OpenID Connect relying party: authorization code flow with PKCE (S256), `state` against
 * forged callbacks, `nonce` against replayed ID tokens, and the ID token verified with jose
 * against the issuer's JWKS. The provider's metadata is read on first use.
 */
export function createOidcClient(settings: OidcSettings, clock: Clock, fetchImpl: typeof fetch = fetch): OidcClient {
  const pending = new Map<string, { verifier: string; nonce: string; started: number }>();
  let discovered: Promise<{ metadata: z.infer<typeof discoverySchema>; keys: ReturnType<typeof createRemoteJWKSet> }> | undefined;

  const discover = () =>
    (discovered ??= (async () => {
      const response = await fetchImpl(new URL('.well-known/openid-configuration', settings.issuerUri.replace(/\/?$/, '/')));
      if (!response.ok) throw new Error(`OIDC discovery answered ${response.status}`);
      const metadata = discoverySchema.parse(await response.json());
      const { createRemoteJWKSet } = await import('jose');
      return { metadata, keys: createRemoteJWKSet(new URL(metadata.jwks_uri)) };
    })().catch((error) => {
      discovered = undefined; // try again on the next login
      throw failed(`The identity provider cannot be reached: ${(error as Error).message}`);
    }));

  function forgetExpired(now: number): void {
    for (const [state, login] of pending) {
      if (now - login.started < pendingLifetimeMs && pending.size < maxPending) break;
      pending.delete(state); // Map order is insertion order: the oldest go first
    }
  }

  return {
    async authorizationUrl() {
      const { metadata } = await discover();
      const now = clock();
      forgetExpired(now);
      const login = { verifier: random(), nonce: random(), started: now };
      const state = random();
      pending.set(state, login);
      const url = new URL(metadata.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: settings.clientId,
        redirect_uri: settings.redirectUri,
        scope: 'openid profile email',
        state,
        nonce: login.nonce,
        code_challenge: createHash('sha256').update(login.verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      return url.href;
    },

    async callback({ code, state }) {
      const login = pending.get(state);
      pending.delete(state);
      if (!login || clock() - login.started >= pendingLifetimeMs) throw failed('The login state is unknown, used or expired; start the login again.');
      const { metadata, keys } = await discover();
      const basic = Buffer.from(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`).toString('base64');
      const response = await fetchImpl(metadata.token_endpoint, {
        method: 'POST',
        headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: settings.redirectUri, code_verifier: login.verifier }),
      });
      const tokens = tokenResponseSchema.safeParse(response.ok ? await response.json() : undefined);
      if (!tokens.success) throw failed(`The identity provider refused the code (${response.status}).`);
      let claims;
      try {
        const { jwtVerify } = await import('jose');
        ({ payload: claims } = await jwtVerify(tokens.data.id_token, keys, {
          issuer: metadata.issuer,
          audience: settings.clientId,
          requiredClaims: ['sub', 'nonce'],
          currentDate: new Date(clock()),
        }));
      } catch (error) {
        throw failed(`The ID token is not valid: ${(error as Error).message}`);
      }
      if (claims.nonce !== login.nonce) throw failed('The ID token was issued for another login (nonce mismatch).');
      const name = [claims.name, claims.preferred_username, claims.email].find((value) => typeof value === 'string' && value.length > 0);
      return { issuer: metadata.issuer, subject: claims.sub!, name: (name as string | undefined) ?? claims.sub! };
    },
  };
}
