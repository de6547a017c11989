import { z } from '@hono/zod-openapi';
import { requireAdmin } from '../auth/accounts.js';
import type { Api } from '../http/env.js';
import { createRoute, jsonResponse } from '../http/openapi.js';
import type { Services } from '../http/services.js';

/**
 * `/secrets/rotation`: re-sealing every secret under a new data key, as a background job while
 * the store serves (see secrets/rotation.ts); `api-store rotate-key` starts it and waits for it.
 */

const RotationSchema = z
  .object({
    state: z.enum(['idle', 'running', 'done', 'failed']),
    keyId: z.string().optional().describe('the new key’s id'),
    resealed: z.number().describe('values re-sealed so far'),
    error: z.string().optional(),
  })
  .openapi('KeyRotation');

const adminOnly = { 403: { description: 'Not the owner or an admin (`admin_only`)' } };

export function registerSecrets(api: Api, { rotation }: Services): void {
  api.openapi(
    createRoute({
      method: 'post',
      path: '/secrets/rotation',
      summary: 'Start re-sealing every secret under a new data key (owner or admin); answers the job, or the one already running',
      responses: {
        202: jsonResponse(RotationSchema, 'The rotation, running'),
        ...adminOnly,
        409: { description: 'The key source cannot be written by the store (`rotation_unavailable`)' },
        503: { description: 'The data key is missing or wrong (`secrets_locked`)' },
      },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      return c.json(rotation.start(), 202);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/secrets/rotation',
      summary: 'The data key rotation’s progress (owner or admin)',
      responses: { 200: jsonResponse(RotationSchema, 'The last rotation of this run of the store'), ...adminOnly },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      return c.json(rotation.status, 200);
    },
  );
}
