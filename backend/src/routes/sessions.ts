import { z } from '@hono/zod-openapi';
import { attemptsByAddress, clientAddress, refuseWhileWaiting } from '../auth/attempts.js';
import { isLoopbackAddress } from '../auth/login-throttle.js';
import { requireAdmin } from '../auth/accounts.js';
import { verifyPassword } from '../auth/passwords.js';
import type { Api } from '../http/env.js';
import { createRoute, jsonBody, jsonResponse, pageOf } from '../http/openapi.js';
import { indexPosition, pageQuery } from '../http/page-query.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import { createSession, listUserSessions, pruneExpiredSessions, renewSession, revokeSession, type SessionRecord } from '../store/sessions.js';
import { findUserByName, getUser, publicUser, type UserRecord } from '../store/users.js';
import { PublicUserSchema } from './users.js';

const Login = z.object({ username: z.string().min(1).max(200), password: z.string().min(1).max(1000) }).openapi('Login');
export const SessionTokenSchema = z
  .object({ id: z.string().describe('the session id'), token: z.string(), expires: z.number().describe('epoch milliseconds'), user: PublicUserSchema })
  .openapi('SessionToken');
const Session = z.object({ id: z.string(), user: z.string(), created: z.number(), expires: z.number() }).openapi('Session');

/** Signs a token for a fresh session record and answers with it. */
export async function issueSession({ store, accounts }: Services, user: UserRecord) {
  const session = await createSession(store, user.key, accounts.sessionLifetimeMs);
  return sessionToken(accounts, session, user);
}

async function sessionToken(accounts: Services['accounts'], session: SessionRecord, user: UserRecord) {
  const token = await accounts.tokens.issue({ session: session.id, user: session.user, expires: session.expires });
  return { id: session.id, token, expires: session.expires, user: publicUser(user) };
}

export function registerSessions(api: Api, services: Services): void {
  const { store, accounts, config, cursors } = services;

  api.openapi(
    createRoute({
      method: 'post',
      path: '/sessions',
      summary: 'Log in with a user name and password (multi-user); rate-limited per address, per user name and address, and slowed per user name',
      middleware: [attemptsByAddress(accounts.attemptsByAddress)] as const,
      request: jsonBody(Login),
      responses: {
        201: jsonResponse(SessionTokenSchema, 'A new session'),
        401: { description: 'Wrong user name or password (one answer for both)' },
        429: { description: 'Too many attempts; see Retry-After' },
      },
    }),
    async (c) => {
      const { username, password } = c.req.valid('json');
      const [name, address] = [username.toLowerCase(), clientAddress(c)];
      const user = await findUserByName(store.storage, username);
      refuseWhileWaiting(await accounts.logins.wait(name, address, !!user?.admin && isLoopbackAddress(address)));
      if (!(await verifyPassword(user?.passwordHash, password)) || !user) {
        await accounts.logins.failed(name, address);
        throw new ApiError('invalid_credentials', 'The user name or password is wrong.');
      }
      await accounts.logins.succeeded(name, address);
      // Logins are rare, so each one also clears a bounded batch of expired sessions.
      await pruneExpiredSessions(store);
      const body = await issueSession(services, user);
      c.header('Location', `${config.prefix}/sessions/${body.id}`);
      return c.json(body, 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/sessions/renew',
      summary: 'Exchange a live session token for a new one with a fresh lifetime; the old token stops working',
      responses: { 200: jsonResponse(SessionTokenSchema, 'The new session'), 401: { description: 'No live session' } },
    }),
    async (c) => {
      const caller = c.get('caller');
      const renewed = caller.session && (await renewSession(store, caller.session, accounts.sessionLifetimeMs));
      const user = renewed && (await getUser(store.storage, renewed.user));
      if (!renewed || !user) throw new ApiError('unauthorized', 'Only a live session can be renewed.', { headers: { 'WWW-Authenticate': 'Bearer' } });
      return c.json(await sessionToken(accounts, renewed, user), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/sessions',
      summary: "Log out: revoke the caller's session",
      responses: { 204: { description: 'Revoked' }, 404: { description: 'The credential is not a session' } },
    }),
    async (c) => {
      const caller = c.get('caller');
      if (!caller.session || !(await revokeSession(store, caller.session))) throw new ApiError('session_not_found', 'This credential is not a session.');
      return c.body(null, 204);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/sessions',
      summary: "A user's sessions (admin)",
      request: { query: pageQuery.extend({ user: z.string().min(1) }) },
      responses: { 200: jsonResponse(pageOf(Session), 'One page of sessions') },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      const { user, limit, cursor } = c.req.valid('query');
      const list = cursors.open({ route: '/sessions', user: c.get('caller').user }, indexPosition, { cursor, limit, filters: { user } });
      const page = await listUserSessions(store.storage, user, list.page);
      return c.json(list.body(page.items, page.last), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/sessions/{id}',
      summary: "Revoke one of any user's sessions (admin)",
      request: { params: z.object({ id: z.string().min(1) }) },
      responses: { 204: { description: 'Revoked' }, 404: { description: 'No such session' } },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      if (!(await revokeSession(store, c.req.valid('param').id))) throw new ApiError('session_not_found', 'There is no session with this id.');
      return c.body(null, 204);
    },
  );
}
