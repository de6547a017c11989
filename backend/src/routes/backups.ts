import { z } from '@hono/zod-openapi';
import { requireAdmin } from '../auth/accounts.js';
import type { Api } from '../http/env.js';
import { createRoute, jsonResponse } from '../http/openapi.js';
import type { Services } from '../http/services.js';

/**
 * `/backups`: the store's own backups in `<dataDir>/backups/` (see backup/snapshots.ts), for the
 * owner or an admin only. A backup is a full snapshot of the store, taken while it keeps serving.
 */

const BackupSchema = z
  .object({
    name: z.string().describe('the file name in <dataDir>/backups/'),
    size: z.number().describe('bytes'),
    created: z.number().describe('epoch milliseconds'),
    reason: z.string().describe('manual, daily, or before-schema-<n> (taken before migrating to schema n)'),
  })
  .openapi('Backup');

const adminOnly = { 403: { description: 'Not the owner or an admin (`admin_only`)' } };

export function registerBackups(api: Api, { backups }: Services): void {
  api.openapi(
    createRoute({
      method: 'post',
      path: '/backups',
      summary: 'Back up the whole store now (owner or admin); restore with `api-store restore`',
      responses: { 201: jsonResponse(BackupSchema, 'The backup written'), ...adminOnly },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      return c.json(await backups.take('manual'), 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/backups',
      summary: 'The backups kept, newest first (owner or admin)',
      responses: { 200: jsonResponse(z.object({ items: z.array(BackupSchema) }), 'Every backup kept'), ...adminOnly },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      return c.json({ items: await backups.list() }, 200);
    },
  );
}
