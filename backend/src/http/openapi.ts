import { createRoute as declareRoute, z, type RouteConfig } from '@hono/zod-openapi';

/** Building blocks of route declarations, so every resource file describes JSON the same way. */

/**
 * @hono/zod-validator always validates with `safeParseAsync`, and an async parse turns off zod's
 * compiled object parser: a 1,000-entry history batch validates 2.9× slower. No request schema
 * of this store has an async check, so its routes validate with the synchronous parse (an async
 * check added later would fail loudly there, not pass unchecked).
 */
function parseSynchronously(schema: unknown): void {
  if (!(schema instanceof z.ZodType)) return;
  const sync: z.ZodType['safeParseAsync'] = async (data, params) => schema.safeParse(data, params);
  schema.safeParseAsync = sync;
}

/** `createRoute` of @hono/zod-openapi, with every request schema parsed synchronously. */
export function createRoute<P extends string, R extends Omit<RouteConfig, 'path'> & { path: P }>(route: R) {
  const { params, query, headers, cookies, body } = route.request ?? {};
  for (const schema of [params, query, headers, cookies]) parseSynchronously(schema);
  for (const media of Object.values(body?.content ?? {})) if (media && 'schema' in media) parseSynchronously(media.schema);
  return declareRoute<P, R>(route);
}

/** An OpenAPI response with a JSON body of `schema`. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

/** A required JSON request body of `schema`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });

/** One page of a list: `{items, cursor?}`, the cursor absent on the last page. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), cursor: z.string().optional() });
