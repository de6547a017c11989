import { createRoute as declareRoute, OpenAPIHono, z, type Hook, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isOpenRoute } from '../auth/open-routes.js';
import { projectDocumentJsonSchema } from '../projects/project-document.js';
import { headerOf, type Api, type AppEnv } from './env.js';
import { hasBody, jsonBodyOf } from './shell.js';
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
function shellErrors(route: Pick<RouteConfig, 'request'>, open: boolean): Record<number, string> {
  const { params, query, body } = route.request ?? {};
  const errors: Record<number, string> = {
    403: 'The Host or Origin is not allowed (`forbidden_host`, `forbidden_origin`), or the caller’s role does not allow this',
  };
  if (!open) errors[401] = 'No valid credential (`unauthorized`)';
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
  const open = isOpenRoute(route.method.toUpperCase(), route.path);
  for (const [status, description] of Object.entries(shellErrors(route, open))) responses[status] = problem(description);
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status] = Number(status) >= 400 && !('content' in response && response.content) ? { ...response, content: problemContent } : response;
  }
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

/** What @hono/zod-openapi's media type gate lets through for a JSON body, and what Hono's validator then parses. */
const jsonRequestType = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;
const jsonMediaType = /^application\/([\w.-]+\+)?json$/i;

/** The schema of a body that is JSON only and required (`jsonBody`), which `validateInput` validates itself. */
function requiredJsonSchema(body: { required?: boolean; content?: Record<string, unknown> } | undefined): z.ZodType | undefined {
  if (!body?.required || Object.keys(body.content ?? {}).length !== 1) return undefined;
  const media = body.content?.['application/json'];
  const schema = media && typeof media === 'object' && 'schema' in media ? media.schema : undefined;
  return schema instanceof z.ZodType ? schema : undefined;
}

interface InputSchemas {
  query?: z.ZodType;
  params?: z.ZodType;
  headers?: z.ZodType;
  json?: z.ZodType;
}

/**
 * Validates a route's query, path parameters, headers and required JSON body with its zod
 * schemas, as @hono/zod-openapi's validators would (the same values, order, hook, 400 and 415
 * answers), in one middleware that reads them from Node's request: Hono's validators read
 * `Content-Type` and the headers through a Fetch `Headers` of the request, which @hono/node-server
 * builds for it, and parse the body a second time. The body is the one the shell parsed.
 */
function validateInput(schemas: InputSchemas, hook: ValidationHook | undefined): MiddlewareHandler<AppEnv> {
  type Target = 'query' | 'param' | 'header' | 'json';
  const targets: [Target, z.ZodType, (c: Context<AppEnv>) => unknown][] = [];
  if (schemas.query) targets.push(['query', schemas.query, queryOf]);
  if (schemas.params) targets.push(['param', schemas.params, (c) => c.req.param()]);
  if (schemas.headers) {
    // Header names arrive lower-cased; the schema's own spelling is given back, as @hono/zod-validator does.
    const shape = (schemas.headers as z.ZodObject).shape ?? {};
    const names = new Map(Object.keys(shape).map((name) => [name.toLowerCase(), name]));
    const headersOf = (c: Context<AppEnv>): Record<string, string | string[] | undefined> => c.env?.incoming?.headers ?? c.req.header();
    targets.push(['header', schemas.headers, (c) => Object.fromEntries(Object.entries(headersOf(c)).map(([name, value]) => [names.get(name) ?? name, Array.isArray(value) ? value.join(', ') : value]))]);
  }
  /** The answer that refuses `data` for `target`, or none once it is valid and stored for `c.req.valid`. */
  const refusal = (c: Context<AppEnv>, target: Target, schema: z.ZodType, data: unknown): Response | undefined => {
    const result = schema.safeParse(data);
    const answer = hook?.({ success: result.success, error: result.error, data, target }, c);
    if (answer instanceof Promise) throw new Error(`The validation hook of ${target} returned a promise; hooks must be synchronous.`);
    if (answer) return answer instanceof Response ? answer : answer.response;
    if (!result.success) return c.json(result, 400);
    c.req.addValidatedData(target, result.data as object);
    return undefined;
  };
  const { json } = schemas;
  // Not async: without a body the route's own promise is passed on. The hooks are synchronous
  // (app.ts's throws); one returning a promise fails loudly rather than being skipped.
  return function validateInput(c, next) {
    for (const [target, schema, valueOf] of targets) {
      const answer = refusal(c, target, schema, valueOf(c));
      if (answer) return Promise.resolve(answer);
    }
    if (!json) return next();
    // The body last, as @hono/zod-openapi validates it.
    return jsonInput(c).then(async (data) => refusal(c, 'json', json, data) ?? next());
  };
}

/** A route's query as @hono/zod-openapi validates it: one value per name, or the list of a repeated one. */
function queryOf(c: Context<AppEnv>): Record<string, string | string[]> {
  const all = Object.entries(c.req.queries());
  // Most reads have no query: no copy of it.
  return all.length === 0 ? {} : Object.fromEntries(all.map(([name, values]) => [name, values.length === 1 ? values[0] : values]));
}

/** A JSON body as @hono/zod-openapi's gate and Hono's validator take it: 415 for another type, `{}` when there is none. */
async function jsonInput(c: Context<AppEnv>): Promise<unknown> {
  const type = headerOf(c, 'content-type');
  if (type ? !jsonRequestType.test(type) : hasBody(c)) throw new HTTPException(415, { message: 'Unsupported Media Type' });
  if (!type || !jsonMediaType.test(type.split(';')[0].trim())) return {};
  try {
    return await jsonBodyOf(c);
  } catch {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' });
  }
}

/**
 * The router of the resource routes (paths below the prefix). Its `openapi` declares a route
 * in the OpenAPI document exactly as @hono/zod-openapi does, and validates the route's query,
 * path parameters, headers and required JSON body in one step (`validateInput`); cookies and
 * other bodies keep @hono/zod-openapi's validators.
 */
export function createApi(defaultHook: ValidationHook): Api {
  const api = new OpenAPIHono<AppEnv>({ defaultHook: defaultHook as Hook<unknown, AppEnv, string, unknown> });
  const declare = api.openapi;
  const openapi = (route: RouteConfig, handler: never, hook?: ValidationHook) => {
    const { params, query, headers, body, ...request } = route.request ?? {};
    const json = requiredJsonSchema(body);
    if (!params && !query && !headers && !json) return declare(route, handler, hook as never);
    const { middleware, hide, ...declared } = route;
    if (!hide) api.openAPIRegistry.registerPath(declared);
    const input = validateInput({ params: params as z.ZodType | undefined, query: query as z.ZodType | undefined, headers: headers as z.ZodType | undefined, json }, hook ?? defaultHook);
    const left = json ? request : { ...request, body };
    return declare({ ...route, hide: true, request: left, middleware: [...(middleware ? [middleware].flat() : []), input] }, handler, hook as never);
  };
  api.openapi = openapi as unknown as Api['openapi'];
  return api;
}

/**
 * The OpenAPI document of `api` and of the routers of the resources it registers on first use
 * (`groups`), complete for a generator: servers (the prefix), the bearer credential and the event
 * socket's query token, the tags the operations use.
 */
export function openApiDocument(api: OpenAPIHono<AppEnv>, groups: OpenAPIHono<AppEnv>[], info: { version: string; prefix: string }) {
  // Their routers declare routes only (`createApi`'s `openapi`); the named schemas are found from the routes.
  for (const group of groups) {
    for (const definition of group.openAPIRegistry.definitions) if (definition.type === 'route') api.openAPIRegistry.registerPath(definition.route);
  }
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
