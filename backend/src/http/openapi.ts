import { z } from '@hono/zod-openapi';

/** Building blocks of route declarations, so every resource file describes JSON the same way. */

/** An OpenAPI response with a JSON body of `schema`. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

/** A required JSON request body of `schema`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });

/** One page of a list: `{items, cursor?}`, the cursor absent on the last page. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), cursor: z.string().optional() });
