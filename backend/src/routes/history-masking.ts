import { z } from '@hono/zod-openapi';
import { requireAdmin } from '../auth/accounts.js';
import type { Api } from '../http/env.js';
import { createRoute, jsonBody, jsonResponse } from '../http/openapi.js';
import type { Services } from '../http/services.js';
import { ALWAYS_MASKED, MASK, readHistoryMasking, writeHistoryMasking, type HistoryMaskingSettings } from '../store/history-masking.js';

/**
 * `/store/history-masking`: which header, query parameter and form field names history masks
 * (see store/history-masking.ts). Anyone signed in reads it; the owner or an admin changes it,
 * for the entries written afterwards.
 */

const pattern = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters')
  .describe('A case-insensitive glob: `*` any run of characters, `?` one character');

const HistoryMaskingInput = z
  .object({
    patterns: z.array(pattern).max(100).describe('Names matching any of these are masked, besides the `always` ones'),
    parameters: z.boolean().default(true).describe('Also mask query parameters and urlencoded form fields whose names are sensitive'),
  })
  .openapi('HistoryMaskingInput');

const HistoryMasking = z
  .object({
    patterns: z.array(z.string()),
    parameters: z.boolean(),
    always: z.array(z.string()).describe('Header names masked whatever the patterns say'),
    marker: z.string().describe('What replaces a masked value'),
  })
  .openapi('HistoryMasking');

const view = (settings: HistoryMaskingSettings) => ({ patterns: settings.patterns, parameters: settings.parameters, always: [...ALWAYS_MASKED], marker: MASK });

export function registerHistoryMasking(api: Api, { store }: Services): void {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/store/history-masking',
      summary: 'What history masks before an entry is stored',
      responses: { 200: jsonResponse(HistoryMasking, 'The store’s masking settings') },
    }),
    async (c) => c.json(view(await readHistoryMasking(store.storage)), 200),
  );

  api.openapi(
    createRoute({
      method: 'put',
      path: '/store/history-masking',
      summary: 'Change what history masks (owner or admin); entries already stored stay as they are',
      request: jsonBody(HistoryMaskingInput),
      responses: { 200: jsonResponse(HistoryMasking, 'The new settings'), 403: { description: 'Not the owner or an admin (`admin_only`)' } },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      const settings = c.req.valid('json');
      await store.mutate((m) => writeHistoryMasking(m, settings));
      return c.json(view(settings), 200);
    },
  );
}
