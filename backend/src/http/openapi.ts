import type { z } from '@hono/zod-openapi';

/** An OpenAPI response with a JSON body of `schema`. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
