import { z } from '@hono/zod-openapi';

/** `?cursor=&limit=` of every list: limit 35 by default, at most 500. */
export const pageQuery = z.object({
  cursor: z
    .string()
    .optional()
    .describe('The previous page’s cursor. It continues only the list, caller and filters it came from; filters not stated are the cursor’s.'),
  limit: z.coerce.number().int().min(1).max(500).default(35),
});

/** The position of a list read from an index: the last index key it returned. */
export const indexPosition = z.string().min(1);
