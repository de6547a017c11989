import { z } from '@hono/zod-openapi';
import { certificateText, certificateWith, kinds } from '../projects/project-document.js';
import { fileKeySchema } from '../store/files.js';

/**
 * What `POST /proxy` accepts: core's `Core#HttpRequest` body (as net-store took it), or the
 * store's simple shape. Both carry where the request came from, for its history entry.
 */

export const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid header name');
export const headerValue = z.string().regex(/^[^\r\n\0]*$/, 'header values cannot contain line breaks');

/** A space, project, request or app id, as history indexes them. */
const scopeId = z.string().min(1).max(256).regex(/^[^\x00-\x1f]*$/, 'must not contain control characters');

const historyFields = {
  /** Write the request to the caller's history (default) or not. */
  history: z.boolean().default(true),
  /** What the request came from, kept on its history entry. */
  from: z.object({ app: scopeId.optional(), space: scopeId.optional(), project: scopeId.optional(), request: scopeId.optional() }).default({}),
};

const MAX_TIMEOUT_MS = 300_000;

export const SimpleRequest = z.object({
  url: z.url({ protocol: /^https?$/ }),
  method: z.string().regex(/^[A-Za-z]{1,20}$/).transform((m) => m.toUpperCase()).default('GET'),
  headers: z.union([z.array(z.tuple([headerName, headerValue])), z.record(headerName, headerValue).transform((h) => Object.entries(h))]).default([]),
  body: z.string().optional(),
  bodyEncoding: z.enum(['utf8', 'base64']).default('utf8'),
  timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).default(30_000),
  ...historyFields,
});

/** Core's payload as it travels in JSON: text, or bytes (a byte array, or a base64 data URL for a blob or file). */
const Payload = z.union([
  z.string(),
  z.object({ type: z.literal('string'), data: z.string() }),
  z.object({ type: z.enum(['buffer', 'arraybuffer']), data: z.array(z.number().int().min(0).max(255)) }),
  z.object({ type: z.enum(['blob', 'file']), data: z.string().regex(/^data:[^,]*;base64,/, 'a base64 data URL') }),
]);

/** Core's `IHttpRequest`; URL, method and headers are checked after variables are substituted. */
const CoreHttpRequest = z.looseObject({
  url: z.string().min(1).max(65_536),
  method: z.string().regex(/^[A-Za-z]{1,20}$/).default('GET'),
  /** Core's header block: `Name: value` lines. */
  headers: z.string().max(1_000_000).default(''),
  payload: Payload.optional(),
});

/** Core's `HttpCertificate`, given inline: PEM certificate and key, or PKCS#12 (base64 bytes) with its passphrase. */
const InlineCertificate = certificateWith({ kind: z.literal(kinds.certificate).optional(), key: z.string().optional(), name: z.string().optional() }, certificateText);

/** A certificate stored in the store: the key of a `Core#Certificate` file the caller can read. */
const StoredCertificateRef = z.strictObject({ kind: z.literal(kinds.certificate).optional(), key: fileKeySchema });

const Certificate = z.union([InlineCertificate, StoredCertificateRef]);

const stringMap = z.record(z.string(), z.string());

/** Core's `IRequestAuthorization`: the enabled ones of the supported types are applied, a disabled one of any type is ignored. */
const Authorization = z.union([
  z.looseObject({ type: z.literal('basic'), enabled: z.boolean().default(true), config: z.object({ username: z.string().default(''), password: z.string().default('') }) }),
  z.looseObject({ type: z.literal('bearer'), enabled: z.boolean().default(true), config: z.object({ token: z.string() }) }),
  z.looseObject({ type: z.literal('api key'), enabled: z.boolean().default(true), config: z.object({ header: stringMap.optional(), query: stringMap.optional(), cookie: stringMap.optional() }) }),
  z.looseObject({ type: z.literal('client certificate'), enabled: z.boolean().default(true), config: z.object({ id: z.string().optional() }).default({}) }),
  z.looseObject({ type: z.string(), enabled: z.literal(false) }),
]);

/** Core's `IRequestConfig` plus the proxy's own settings. `timeout` is in milliseconds, like core's engine option. */
const RequestConfig = z.looseObject({
  enabled: z.boolean().optional(),
  timeout: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
  followRedirects: z.boolean().optional(),
  maxRedirects: z.number().int().min(0).max(50).optional(),
  validateCertificates: z.boolean().optional(),
  /** `true` adds core's default `accept` and `user-agent`; a map adds those headers. Either only where the request has none of that name. */
  defaultHeaders: z.union([z.boolean(), z.record(headerName, headerValue)]).optional(),
  /** PEM of a certificate authority to trust besides the system's. */
  ca: z.string().min(1).max(1_000_000).optional(),
  /** An HTTP(S) proxy to send through, credentials in its URL. */
  proxy: z.url({ protocol: /^https?$/ }).optional(),
  /** Response bytes returned; a longer body comes back `truncated`, with its whole size. */
  maxBodyBytes: z.number().int().min(0).optional(),
});

/**
 * A stored secret in place of a variable's value: the marker a project's contents give for it.
 * The store opens it from the project named in `from.project` (writers and owners only).
 */
export const SecretReference = z.looseObject({ $secret: z.string().min(1).max(64) });

/** Variables as a map, or as core's environment properties. */
const Variables = z.union([
  z.record(z.string(), z.union([z.string(), SecretReference])),
  z.array(z.looseObject({ name: z.string(), value: z.union([z.union([z.string(), z.number(), z.boolean()]).transform(String), SecretReference]), enabled: z.boolean().default(true) })),
]);

export const CoreRequestBody = z.object({
  kind: z.literal('Core#HttpRequest'),
  request: CoreHttpRequest,
  authorization: z.union([Authorization, z.array(Authorization)]).optional(),
  config: RequestConfig.optional(),
  variables: Variables.optional(),
  certificates: z.array(Certificate).max(20).optional(),
  ...historyFields,
});

export const ProxyRequestBody = z.union([CoreRequestBody, SimpleRequest]).openapi('ProxyRequest');

export type SimpleRequestInput = z.infer<typeof SimpleRequest>;
export type CoreRequestInput = z.infer<typeof CoreRequestBody>;
export type ProxyRequestInput = z.infer<typeof ProxyRequestBody>;
export type CertificateInput = z.infer<typeof Certificate>;

const timings = z.object({ blocked: z.number(), dns: z.number(), connect: z.number(), ssl: z.number(), send: z.number(), wait: z.number(), receive: z.number(), total: z.number() });
const headerPairs = z.array(z.tuple([z.string(), z.string()]));

export const ProxyResultSchema = z
  .object({
    startTime: z.number(),
    request: z.object({ url: z.string(), method: z.string(), headers: headerPairs }),
    redirects: z.array(z.object({ url: z.string(), method: z.string(), status: z.number(), statusText: z.string(), location: z.string(), timings })),
    response: z
      .object({
        status: z.number(),
        statusText: z.string(),
        headers: headerPairs,
        body: z.string(),
        bodyEncoding: z.enum(['utf8', 'base64']),
        size: z.number(),
        truncated: z.boolean(),
        timings,
      })
      .optional(),
    error: z.looseObject({ code: z.string(), message: z.string(), timings }).optional(),
    total: z.number(),
    history: z.union([z.object({ key: z.string() }), z.object({ error: z.object({ code: z.string(), message: z.string() }) })]).optional(),
  })
  .openapi('ProxyResult');
