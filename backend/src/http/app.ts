import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, ErrorHandler, Next } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { authenticate } from '../auth/authenticate.js';
import type { Authenticator } from '../auth/caller.js';
import { openRouteCheck } from '../auth/open-routes.js';
import { allowHosts, allowOrigins } from '../auth/request-origin.js';
import { createListenerSockets, type ListenerSockets } from '../events/sockets.js';
import { registerRoutes } from '../routes/index.js';
import { StoreError } from '../store/store-error.js';
import type { AppEnv } from './env.js';
import type { Logger } from '../logger.js';
import { errorCodes, type ErrorCode } from './error-codes.js';
import { StoreUnavailableError } from '../store/open-errors.js';
import { ApiError, fromStoreError, problemResponse, storeUnavailable } from './problem.js';
import type { Services } from './services.js';
import { limitConcurrentRequests } from './request-limit.js';
import { hardShell, jsonBodies } from './shell.js';
import { createApi, openApiDocument } from './openapi.js';

export interface ListenerOptions {
  /** Loopback listeners check Host against the loopback names (DNS rebinding). */
  loopback: boolean;
  tls: boolean;
  authenticator: Authenticator;
}

/** Event socket commands are small JSON objects; a larger message is refused by the socket layer. */
const maxCommandBytes = 64 * 1024;

/** Validation failures of any route become one problem shape with the offending paths. */
function validationProblem(result: { success: boolean; target: string; error?: { issues: { path: PropertyKey[]; message: string }[] } }) {
  if (result.success) return;
  const errors = (result.error?.issues ?? []).map((issue) => ({
    path: [result.target, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new ApiError('validation_failed', 'The request is not valid.', { errors });
}

/**
 * Hono's own 4xx errors: its JSON validator answers 400 to a body that does not parse, and the
 * OpenAPI routes 415 to a body of an undeclared type.
 */
const honoErrorCodes: Record<number, ErrorCode> = { 400: 'malformed_json', 415: 'unsupported_media_type' };

function codeForStatus(status: number): ErrorCode {
  if (honoErrorCodes[status]) return honoErrorCodes[status];
  const entry = Object.entries(errorCodes).find(([, value]) => value.status === status);
  return (entry?.[0] as ErrorCode | undefined) ?? 'internal_error';
}

/** The answer to an error thrown while handling a request: problem+json with its stable code. */
function answerError(log: Logger): ErrorHandler<AppEnv> {
  return (error, c) => {
    if (error instanceof ApiError) return problemResponse(c, error);
    if (error instanceof StoreError) return problemResponse(c, fromStoreError(error));
    if (error instanceof StoreUnavailableError) {
      log.warn('database unavailable', { requestId: c.get('requestId'), error: String(error.cause) });
      return problemResponse(c, storeUnavailable());
    }
    if (error instanceof HTTPException && error.status < 500) {
      return problemResponse(c, new ApiError(codeForStatus(error.status), error.message || undefined));
    }
    log.error('unhandled error', { requestId: c.get('requestId'), error: String(error), stack: (error as Error).stack });
    return problemResponse(c, new ApiError('internal_error', 'The store failed to handle this request; the log has the details.'));
  };
}

/** A listener's app, its WebSocket side, which `listen` attaches to the listener's server, and its largest accepted body. */
export type ListenerApp = OpenAPIHono<AppEnv> & { sockets: ListenerSockets; maxBodyBytes: number };

/** The whole HTTP app of one listener: the hard shell around every resource's routes. */
export function createApp(services: Services, listener: ListenerOptions): ListenerApp {
  const { config, log } = services;
  const prefix = config.prefix;
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationProblem });

  const onError = answerError(log);
  const shell = hardShell(listener.tls, log);
  const checkHost = listener.loopback ? allowHosts(config.allowedHosts) : undefined;
  const checkOrigin = allowOrigins(config.allowedOrigins);
  const authenticateCaller = authenticate({
    authenticator: listener.authenticator,
    open: openRouteCheck(prefix),
    allowQueryToken: (path) => path === `${prefix}/events`,
  });
  // Teammates share the store's capacity; the local owner's own app is not limited.
  const limit = config.mode === 'multi-user' ? limitConcurrentRequests(config.limits.concurrentRequestsPerUser) : undefined;
  const acceptBody = jsonBodies(config.limits, prefix);
  const allowedMethods = methodNotAllowed({
    app,
    onMethodNotAllowed: (c: Context, methods: string[]) =>
      problemResponse(c, new ApiError('method_not_allowed', `Use ${methods.join(', ')} on this path.`, { headers: { Allow: methods.join(', ') } })),
  });
  /** An error of a step answered as Hono answers a middleware's error. */
  const answer = async (c: Context<AppEnv>, error: unknown) => {
    if (!(error instanceof Error)) throw error;
    c.error = error;
    c.res = await onError(error, c);
  };
  // The steps return a promise only when they wait for something (a body, a session token's
  // check): on a GET with the launch token they run without a promise or a closure of their own.
  const toRoute = (c: Context<AppEnv>, next: Next): Promise<unknown> => {
    const reading = acceptBody(c);
    return reading ? reading.then(() => allowedMethods(c, next)) : allowedMethods(c, next);
  };
  const authenticated = (c: Context<AppEnv>, next: Next) => (limit ? limit(c, () => toRoute(c, next)) : toRoute(c, next));
  const admitted = (c: Context<AppEnv>, next: Next): Promise<unknown> => {
    const authenticating = authenticateCaller(c);
    return authenticating ? authenticating.then(() => authenticated(c, next)) : authenticated(c, next);
  };
  // CORS headers go on error answers too, as when each step was a middleware of its own.
  const admittedWithCors = async (c: Context<AppEnv>, next: Next) => {
    try {
      await admitted(c, next);
    } catch (error) {
      await answer(c, error);
    }
  };
  // The steps every request takes, in order, in one middleware: as middleware of their own, each
  // would add its own async frames to every request.
  app.use(async function hardShellAndAdmission(c, next) {
    shell.enter(c);
    try {
      checkHost?.(c);
      const cors = checkOrigin(c);
      if (!cors) await admitted(c, next);
      else {
        const preflight = await cors(c, () => admittedWithCors(c, next));
        if (preflight) c.res = preflight;
      }
    } catch (error) {
      await answer(c, error);
    }
    shell.leave(c);
  });

  const api = createApi(validationProblem);
  const sockets = createListenerSockets(app, maxCommandBytes, listener.authenticator);
  const loadOnFirstUse = registerRoutes(api, services, sockets, () => createApi(validationProblem));
  // Every route is in the document: the resources registered on first use load for it.
  let document: Promise<ReturnType<typeof openApiDocument>> | undefined;
  const documentOf = async () => openApiDocument(api, [await loadOnFirstUse()], { version: services.version, prefix });
  api.get('/openapi.json', async (c) => c.json(await (document ??= documentOf())));
  app.route(prefix, api);

  app.notFound((c) => problemResponse(c, new ApiError('not_found', 'There is nothing at this path.')));
  app.onError(onError);
  return Object.assign(app, { sockets, maxBodyBytes: Math.max(config.limits.metadataBytes, config.limits.mediaBytes) });
}
