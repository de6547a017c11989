import { z } from '@hono/zod-openapi';
import { requireAdmin } from '../auth/accounts.js';
import { attemptsByAddress } from '../auth/attempts.js';
import { hashPassword } from '../auth/passwords.js';
import type { Api } from '../http/env.js';
import { createRoute, jsonBody, jsonResponse } from '../http/openapi.js';
import type { Services } from '../http/services.js';
import { createInvite, redeemInvite } from '../store/invites.js';
import { publicUser } from '../store/users.js';
import { ApiError } from '../http/problem.js';
import { findOrCreateOidcUser } from '../store/users.js';
import { issueSession, SessionTokenSchema } from './sessions.js';
import { PublicUserSchema } from './users.js';

const day = 24 * 60 * 60;

const NewInvite = z
  .object({ lifetimeSeconds: z.number().int().min(60).max(30 * day).default(7 * day) })
  .openapi('NewInvite');
const Invite = z.object({ code: z.string(), expires: z.number().describe('epoch milliseconds') }).openapi('Invite');
const Redemption = z
  .object({
    code: z.string().min(1).max(100),
    username: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore, up to 64'),
    name: z.string().trim().min(1).max(200),
    password: z.string().min(8).max(1000),
  })
  .openapi('InviteRedemption');

/** What the provider appends to the redirect URI: a code, or an error (RFC 6749 §4.1.2). */
const OidcCallback = z.object({
  state: z.string().min(1).max(500),
  code: z.string().min(1).max(2000).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(1000).optional(),
  iss: z.string().max(500).optional(),
});

export function registerAuth(api: Api, services: Services): void {
  const { store, accounts, config } = services;

  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/invites',
      summary: 'Create a single-use invite code (admin); only its hash is kept',
      request: { body: { content: { 'application/json': { schema: NewInvite } }, required: false } },
      responses: { 201: jsonResponse(Invite, 'The code, shown once') },
    }),
    async (c) => {
      const caller = c.get('caller');
      requireAdmin(caller);
      // The body is optional: without one the validator is skipped, so the defaults are applied here.
      const { lifetimeSeconds } = NewInvite.parse(c.req.valid('json') ?? {});
      return c.json(await createInvite(store, caller.user, lifetimeSeconds * 1000), 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/invites/redeem',
      summary: 'Create an account with an invite code; rate-limited per address',
      middleware: [attemptsByAddress(accounts.attemptsByAddress)] as const,
      request: jsonBody(Redemption),
      responses: { 201: jsonResponse(PublicUserSchema, 'The new account'), 400: { description: 'Invalid or spent code (`invalid_invite`)' }, 409: { description: 'User name taken (`username_taken`)' }, 429: { description: 'Too many attempts from this address (`too_many_attempts`); see Retry-After' } },
    }),
    async (c) => {
      const { code, username, name, password } = c.req.valid('json');
      const user = await redeemInvite(store, code, { username, name, passwordHash: await hashPassword(password) });
      c.header('Location', `${config.prefix}/users/${user.key}`);
      return c.json(publicUser(user), 201);
    },
  );

  const oidcClient = () => {
    if (!accounts.oidc) throw new ApiError('oidc_not_configured', 'This store does not sign in with OpenID Connect.');
    return accounts.oidc;
  };

  api.openapi(
    createRoute({
      method: 'get',
      path: '/auth/oidc/login',
      summary: "Start an OpenID Connect login: redirects to the identity provider (code flow with PKCE)",
      responses: { 302: { description: "To the provider's authorization endpoint" }, 404: { description: 'OIDC is not configured' } },
    }),
    async (c) => c.redirect(await oidcClient().authorizationUrl(), 302),
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/auth/oidc/callback',
      summary: 'Finish an OpenID Connect login: checks state, exchanges the code, verifies the ID token and nonce, creates the user on first login',
      middleware: [attemptsByAddress(accounts.attemptsByAddress)] as const,
      request: { query: OidcCallback },
      responses: { 200: jsonResponse(SessionTokenSchema, 'A new session'), 401: { description: 'The login failed (`oidc_login_failed`)' }, 404: { description: 'OIDC is not configured (`oidc_not_configured`)' }, 429: { description: 'Too many attempts from this address (`too_many_attempts`); see Retry-After' } },
    }),
    async (c) => {
      const client = oidcClient();
      const { state, code, error, error_description } = c.req.valid('query');
      if (!code) throw new ApiError('oidc_login_failed', `The identity provider refused the login: ${error_description ?? error ?? 'no code'}.`);
      const identity = await client.callback({ code, state });
      const user = await findOrCreateOidcUser(store, { issuer: identity.issuer, subject: identity.subject }, identity.name);
      return c.json(await issueSession(services, user), 200);
    },
  );
}
