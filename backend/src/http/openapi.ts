import { createRoute as declareRoute, OpenAPIHono, z, type Hook, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { isOpenRoute } from '../auth/open-routes.js';
import { projectDocumentJsonSchema } from '../projects/project-document.js';
import type { Api, AppEnv } from './env.js';
import { errorCodes } from './error-codes.js';

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

/** Every error answer of the store (problem.ts): RFC 9457 problem details with a stable `code`. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(Object.keys(errorCodes) as [keyof typeof errorCodes, ...(keyof typeof errorCodes)[]]),
    detail: z.string(),
    instance: z.string(),
    error: z.literal(true),
    message: z.string().openapi({ description: 'The same as `detail`, for net-store clients' }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .openapi('Problem', { description: 'An error. Clients switch on `code`; some codes add fields (e.g. `version`, `limit`).' });

export const problemContent = { 'application/problem+json': { schema: ProblemSchema } };

/** An error answer a route declares: its description; the body is always a Problem. */
const problem = (description: string) => ({ description, content: problemContent });

/**
 * The errors the shell can give on any route, and those of routes with input or a body; a
 * route's own declaration of a status replaces the description here.
 */
function shellErrors(route: Pick<RouteConfig, 'method' | 'path' | 'request'>): Record<number, string> {
  const { params, query, body } = route.request ?? {};
  const errors: Record<number, string> = {
    403: 'The Host or Origin is not allowed (`forbidden_host`, `forbidden_origin`), or the caller’s role does not allow this',
  };
  if (!isOpenRoute('', route.method.toUpperCase(), route.path)) errors[401] = 'No valid credential (`unauthorized`)';
  if (params || query || body) errors[400] = 'The request is not valid (`validation_failed`, `malformed_json`, `too_deep`, `invalid_cursor`)';
  if (params) errors[404] = 'Nothing the caller can see at this path';
  if (body) {
    errors[413] = 'The body is larger than the store accepts (`payload_too_large`; `detail` and `limit` state the limit)';
    errors[415] = 'The body is not of a type this route takes (`unsupported_media_type`)';
  }
  return errors;
}

const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** `get /files/{key}/revisions` → `getFilesByKeyRevisions`: unique per method and path. */
export function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .map((segment) => (segment.startsWith('{') ? `By${capitalized(segment.slice(1, -1))}` : segment.split(/[^A-Za-z0-9]+/).map(capitalized).join('')));
  return method.toLowerCase() + words.join('');
}

/** The tag of a route when it names none: the resource, the path's first segment. */
const tagOf = (path: string) => capitalized(path.split('/')[1] ?? 'store');

/**
 * `createRoute` of @hono/zod-openapi, with every request schema parsed synchronously, and what a
 * client generator needs filled in: an `operationId` (derived from method and path unless given),
 * a tag, a description, `security: []` on open routes, and the shell's errors, every error
 * answered with the `Problem` schema.
 */
export function createRoute<P extends string, R extends Omit<RouteConfig, 'path'> & { path: P }>(route: R) {
  const { params, query, headers, cookies, body } = route.request ?? {};
  for (const schema of [params, query, headers, cookies]) parseSynchronously(schema);
  for (const media of Object.values(body?.content ?? {})) if (media && 'schema' in media) parseSynchronously(media.schema);
  const responses: RouteConfig['responses'] = {};
  for (const [status, description] of Object.entries(shellErrors(route))) responses[status] = problem(description);
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status] = Number(status) >= 400 && !('content' in response && response.content) ? { ...response, content: problemContent } : response;
  }
  const open = isOpenRoute('', route.method.toUpperCase(), route.path);
  return declareRoute<P, R>({
    operationId: operationIdOf(route.method, route.path),
    tags: [tagOf(route.path)],
    description: route.summary,
    ...(open ? { security: [] } : {}),
    ...route,
    responses,
  });
}

/** The outcome of a route's validation hook (app.ts's `validationProblem` throws instead). */
type HookAnswer = Response | { response: Response } | void | undefined;
type ValidationHook = (result: { target: string; data: unknown; success: boolean; error?: z.ZodError }, c: Context<AppEnv>) => HookAnswer | Promise<HookAnswer>;

/**
 * Validates a route's path parameters and query with its zod schemas, as @hono/zod-openapi's
 * validators would (the same values, the same hook and the same 400), in one middleware that
 * reads them straight from Hono's context: Hono's validator reads `Content-Type` for every
 * target, which makes @hono/node-server build a Fetch `Headers` of the request even for a GET.
 */
function validateParamsAndQuery(schemas: { query?: z.ZodType; params?: z.ZodType }, hook: ValidationHook | undefined): MiddlewareHandler<AppEnv> {
  const targets: ['query' | 'param', z.ZodType, (c: Context<AppEnv>) => unknown][] = [];
  // The order of @hono/zod-openapi: the query first, then the path parameters.
  if (schemas.query) targets.push(['query', schemas.query, queryOf]);
  if (schemas.params) targets.push(['param', schemas.params, (c) => c.req.param()]);
  // Not async: the route's own promise is passed on. The hooks are synchronous (app.ts's throws);
  // one returning a promise fails loudly rather than being skipped.
  return function validateInput(c, next) {
    for (const [target, schema, valueOf] of targets) {
      const data = valueOf(c);
      const result = schema.safeParse(data);
      const answer = hook?.({ success: result.success, error: result.error, data, target }, c);
      if (answer instanceof Promise) throw new Error(`The validation hook of ${target} returned a promise; hooks must be synchronous.`);
      if (answer) return Promise.resolve(answer instanceof Response ? answer : answer.response);
      if (!result.success) return Promise.resolve(c.json(result, 400));
      c.req.addValidatedData(target, result.data as object);
    }
    return next();
  };
}

/** A route's query as @hono/zod-openapi validates it: one value per name, or the list of a repeated one. */
function queryOf(c: Context<AppEnv>): Record<string, string | string[]> {
  const all = Object.entries(c.req.queries());
  // Most reads have no query: no copy of it.
  return all.length === 0 ? {} : Object.fromEntries(all.map(([name, values]) => [name, values.length === 1 ? values[0] : values]));
}

/**
 * The router of the resource routes (paths below the prefix). Its `openapi` declares a route
 * in the OpenAPI document exactly as @hono/zod-openapi does, and validates the route's path
 * parameters and query in one step (`validateParamsAndQuery`); headers, cookies and bodies keep
 * @hono/zod-openapi's validators.
 */
export function createApi(defaultHook: ValidationHook): Api {
  const api = new OpenAPIHono<AppEnv>({ defaultHook: defaultHook as Hook<unknown, AppEnv, string, unknown> });
  const declare = api.openapi;
  const openapi = (route: RouteConfig, handler: never, hook?: ValidationHook) => {
    const { params, query, ...request } = route.request ?? {};
    if (!params && !query) return declare(route, handler, hook as never);
    const { middleware, hide, ...declared } = route;
    if (!hide) api.openAPIRegistry.registerPath(declared);
    const input = validateParamsAndQuery({ params: params as z.ZodType | undefined, query: query as z.ZodType | undefined }, hook ?? defaultHook);
    return declare({ ...route, hide: true, request, middleware: [...(middleware ? [middleware].flat() : []), input] }, handler, hook as never);
  };
  api.openapi = openapi as unknown as Api['openapi'];
  return api;
}

/**
 * The OpenAPI document of `api`, complete for a generator: servers (the prefix), the bearer
 * credential and the event socket's query token, the tags the operations use.
 */
export function openApiDocument(api: OpenAPIHono<AppEnv>, info: { version: string; prefix: string }) {
  // The contents of every Core#HttpProject, checked on write (see projects/project-document.ts) and
  // referenced by `POST /import`; converted here, not at start, as the document is built on first request.
  const { $schema: _dialect, ...projectSchema } = projectDocumentJsonSchema('openapi-3.0');
  api.openAPIRegistry.registerComponent('schemas', 'HttpProject', projectSchema as never);
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'The launch token (local and server modes) or a session token (multi-user, `POST /sessions`)',
  });
  api.openAPIRegistry.registerComponent('securitySchemes', 'queryToken', {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: 'The same credential as a query parameter: accepted on `GET /events` only, where a browser WebSocket cannot send headers',
  });
  const document = api.getOpenAPIDocument({
    openapi: '3.0.0',
    info: {
      title: 'api-store',
      version: info.version,
      description: 'The local backend of the API Client: files (spaces, projects and their contents), sharing, trash, request history, app data, sessions and a change feed.',
      contact: { name: 'API Client team', url: 'https://github.com/api-client/api-store' },
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    servers: [{ url: info.prefix || '/', description: 'This store (relative to its address)' }],
    security: [{ bearer: [] }],
  });
  const tags = new Set<string>();
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations as Record<string, { tags?: string[] }>)) for (const tag of operation.tags ?? []) tags.add(tag);
  }
  return { ...document, tags: [...tags].sort().map((name) => ({ name, description: `The ${name} routes` })) };
}

/** An OpenAPI response with a JSON body of `schema`. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

/** A required JSON request body of `schema`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });

/** One page of a list: `{items, cursor?}`, the cursor absent on the last page. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), cursor: z.string().optional() });
