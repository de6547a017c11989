import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { etagOf } from '../store/files.js';
import { StoreError, type FieldError } from '../store/store-error.js';
import { errorCodes, type ErrorCode } from './error-codes.js';

export type { FieldError } from '../store/store-error.js';

/** Thrown anywhere below a route to answer with an application/problem+json body. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors?: FieldError[];
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(
    code: ErrorCode,
    detail?: string,
    options: { errors?: FieldError[]; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? errorCodes[code].title);
    this.name = 'ApiError';
    this.code = code;
    this.status = errorCodes[code].status;
    this.errors = options.errors;
    this.extra = options.extra;
    this.headers = options.headers;
  }
}

/** A store failure as the HTTP answer: the registry gives its status, a conflict names the current ETag. */
export function fromStoreError(error: StoreError): ApiError {
  const version = error.code === 'version_conflict' ? error.extra?.version : undefined;
  return new ApiError(error.code, error.message, {
    errors: error.errors,
    extra: error.extra,
    ...(typeof version === 'number' && { headers: { ETag: etagOf(version) } }),
  });
}

/** The problem+json body; `message` mirrors `detail` for net-store clients. */
export function problemBody(error: ApiError, instance: string): Record<string, unknown> {
  return {
    type: `about:blank#${error.code}`,
    title: errorCodes[error.code].title,
    status: error.status,
    code: error.code,
    detail: error.message,
    instance,
    error: true,
    message: error.message,
    ...(error.errors ? { errors: error.errors } : {}),
    ...error.extra,
  };
}

/** Builds the problem+json response of a request the app handled. */
export function problemResponse(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  c.header('Content-Type', 'application/problem+json');
  return c.body(JSON.stringify(problemBody(error, c.req.path)), error.status as ContentfulStatusCode);
}

/** The answer while the shared database is out of reach: the client retries, the store reconnects. */
export function storeUnavailable(): ApiError {
  return new ApiError('store_unavailable', 'The database is out of reach; try again shortly.', { headers: { 'Retry-After': '1' } });
}
