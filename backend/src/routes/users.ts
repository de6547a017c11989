import { z } from '@hono/zod-openapi';
import { LOCAL_OWNER } from '../auth/caller.js';
import type { Api } from '../http/env.js';
import { createRoute, jsonResponse, pageOf } from '../http/openapi.js';
import { indexPosition, pageQuery } from '../http/page-query.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import { getUser, listUsers, publicUser, type PublicUser } from '../store/users.js';

export const PublicUserSchema = z
  .object({ key: z.string(), name: z.string(), username: z.string().optional(), admin: z.boolean(), created: z.number() })
  .openapi('User');

/** The desktop owner has no account record; it is shown as this one. */
const owner: PublicUser = { key: LOCAL_OWNER, name: 'Owner', admin: true, created: 0 };

async function findPublicUser(services: Services, key: string): Promise<PublicUser | undefined> {
  if (key === LOCAL_OWNER) return owner;
  const user = await getUser(services.store.storage, key);
  return user && publicUser(user);
}

export function registerUsers(api: Api, services: Services): void {
  const { store, cursors } = services;

  api.openapi(
    createRoute({ method: 'get', path: '/users/me', summary: 'The caller', responses: { 200: jsonResponse(PublicUserSchema, 'The caller') } }),
    async (c) => {
      const caller = c.get('caller');
      const me = await findPublicUser(services, caller.user);
      if (!me) throw new ApiError('user_not_found', 'The account of this session no longer exists.');
      // `admin` says what the caller may do here: an admin account on the LAN listener is not one.
      return c.json({ ...me, admin: caller.admin }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/users',
      summary: "The store's users for the share dialog: its accounts in key order, then the desktop owner",
      request: { query: pageQuery },
      responses: { 200: jsonResponse(pageOf(PublicUserSchema), 'One page of users') },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const list = cursors.open({ route: '/users', user: c.get('caller').user }, indexPosition, { cursor, limit, filters: {} });
      const { items, last } = await listUsers(store.storage, list.page);
      if (last !== undefined) return c.json(list.body(items, last), 200);
      // The owner has no account, yet teammates share files with it: it follows the last account,
      // on a page of its own when the accounts fill this one.
      if (items.length === limit) return c.json(list.body(items, items[limit - 1].key), 200);
      return c.json(list.body([...items, owner], undefined), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/users/{key}',
      summary: 'One user',
      request: { params: z.object({ key: z.string().min(1) }) },
      responses: { 200: jsonResponse(PublicUserSchema, 'The user'), 404: { description: 'No such user' } },
    }),
    async (c) => {
      const user = await findPublicUser(services, c.req.valid('param').key);
      if (!user) throw new ApiError('user_not_found', 'There is no user with this key.');
      return c.json(user, 200);
    },
  );
}
