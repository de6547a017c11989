import { z } from 'zod';
import { secretMarkerSchema } from '../secrets/marker.js';
import { StoreError } from '../store/store-error.js';

/**
 * The contents of a file of kind `Core#HttpProject`: the API Client's project document, the
 * `IHttpProject` shape of @api-client/core. Every object is loose: fields a newer app adds
 * survive a round trip through this store unchanged. Only what the store and its importers and
 * exporters rely on is required.
 */

export const HTTP_PROJECT_KIND = 'Core#HttpProject';
export const kinds = {
  thing: 'Core#Thing',
  request: 'Core#ProjectRequest',
  folder: 'Core#ProjectFolder',
  environment: 'Core#Environment',
  server: 'Core#Server',
  property: 'Core#Property',
  httpRequest: 'Core#HttpRequest',
  authorization: 'Core#RequestAuthorization',
  certificate: 'Core#Certificate',
} as const;

export const thingSchema = z.looseObject({
  kind: z.literal(kinds.thing).optional(),
  name: z.string().optional(),
  displayName: z.string().optional(),
  description: z.string().optional(),
  version: z.string().optional(),
});

/** A variable of an environment. */
export const propertySchema = z.looseObject({
  kind: z.literal(kinds.property).optional(),
  name: z.string(),
  value: z.unknown(),
  type: z.string(),
  enabled: z.boolean().optional(),
  description: z.string().optional(),
});

export const serverSchema = z.looseObject({
  kind: z.literal(kinds.server).optional(),
  uri: z.string(),
  protocol: z.string().optional(),
  basePath: z.string().optional(),
  description: z.string().optional(),
});

export const environmentSchema = z.looseObject({
  kind: z.literal(kinds.environment),
  key: z.string().min(1),
  info: thingSchema,
  server: serverSchema.optional(),
  variables: z.array(propertySchema),
  encapsulated: z.boolean().optional(),
});

/** A part of a multipart body: a text value or a serialized file. */
const multipartPartSchema = z.looseObject({ name: z.string(), value: z.unknown(), enabled: z.boolean().optional() });

/** A body: a string, or core's store-safe serialized form (`{type, data}`). */
export const payloadSchema = z.union([
  z.string(),
  z.looseObject({
    type: z.enum(['string', 'file', 'blob', 'buffer', 'arraybuffer', 'formdata', 'x-www-form-urlencoded']),
    data: z.union([z.string(), z.array(z.number()), z.array(multipartPartSchema)]),
    meta: z.looseObject({ mime: z.string().optional(), name: z.string().optional() }).optional(),
  }),
]);

export const httpRequestSchema = z.looseObject({
  kind: z.string().optional(),
  url: z.string(),
  method: z.string().optional(),
  /** HTTP headers as one string, `Name: value` lines. */
  headers: z.string().optional(),
  payload: payloadSchema.optional(),
});

export const authorizationSchema = z.looseObject({
  kind: z.literal(kinds.authorization).optional(),
  type: z.string(),
  enabled: z.boolean(),
  valid: z.boolean().optional(),
  config: z.unknown().optional(),
});

export const requestSchema = z.looseObject({
  kind: z.literal(kinds.request),
  key: z.string().min(1),
  info: thingSchema,
  expects: httpRequestSchema,
  created: z.number().optional(),
  updated: z.number().optional(),
  authorization: z.array(authorizationSchema).optional(),
  /** Core's `IRequestConfig` (timeout, redirects, certificate validation...), checked when the request is sent. */
  config: z.looseObject({}).optional(),
});

/** A place in the ordered tree: what kind of definition, and its key in `definitions`. */
export const itemSchema = z.looseObject({
  kind: z.enum([kinds.folder, kinds.request, kinds.environment]),
  key: z.string().min(1),
});

export const folderSchema = z.looseObject({
  kind: z.literal(kinds.folder),
  key: z.string().min(1),
  info: thingSchema,
  items: z.array(itemSchema),
  created: z.number().optional(),
  updated: z.number().optional(),
});

const MAX_CERTIFICATE_CHARS = 1_000_000;
const base64Text = /^[A-Za-z0-9+/=\s]+$/;

/** A certificate's secret parts as text, and as stored, where a part may be the marker the store leaves in place of its value (secrets/contents.ts). */
export const certificateText = { data: z.string().min(1).max(MAX_CERTIFICATE_CHARS), passphrase: z.string() };
const sealedCertificateText = { data: z.union([certificateText.data, secretMarkerSchema]), passphrase: z.union([certificateText.passphrase, secretMarkerSchema]) };
type CertificateText<Data extends z.ZodType, Passphrase extends z.ZodType> = { data: Data; passphrase: Passphrase };

/** Core's `ICertificateData`: PEM text, or base64 bytes when `type` is `buffer`, and the passphrase of its key. */
const certificateData = <Data extends z.ZodType<string | object>, Passphrase extends z.ZodType<string | object>>(format: 'pem' | 'base64', text: CertificateText<Data, Passphrase>) =>
  z
    .looseObject({ data: text.data, passphrase: text.passphrase.optional(), type: z.literal('buffer').optional() })
    .refine((value) => typeof value.data !== 'string' || (format === 'base64' || value.type === 'buffer' ? base64Text.test(value.data) : value.data.includes('-----BEGIN ')), {
      message: format === 'base64' ? 'PKCS#12 data must be base64' : 'PEM data must hold a -----BEGIN block (or base64 with type "buffer")',
      path: ['data'],
    });

/**
 * Core's `HttpCertificate` with the given identity fields: a PEM certificate and its PEM private
 * key (`certKey`), or a PKCS#12 bundle (base64) whose passphrase is `cert.passphrase`.
 */
export const certificateWith = <Identity extends z.ZodRawShape, Data extends z.ZodType<string | object>, Passphrase extends z.ZodType<string | object>>(identity: Identity, text: CertificateText<Data, Passphrase>) =>
  z.discriminatedUnion('type', [
    z.looseObject({ ...identity, type: z.literal('pem'), cert: certificateData('pem', text), certKey: certificateData('pem', text) }),
    z.looseObject({ ...identity, type: z.literal('p12'), cert: certificateData('base64', text) }),
  ]);

const certificateIdentity = { kind: z.literal(kinds.certificate), key: z.string().min(1), name: z.string().optional() };
/** A certificate ready to present: a project's own once its secrets are opened, or a stored file's. */
export const certificateSchema = certificateWith(certificateIdentity, certificateText);
/** A certificate as stored: in a project's definitions, or the contents of a file of kind `Core#Certificate`. */
export const storedCertificateSchema = certificateWith(certificateIdentity, sealedCertificateText);

export const projectDocumentSchema = z.looseObject({
  kind: z.literal(HTTP_PROJECT_KIND),
  key: z.string().min(1).optional(),
  info: thingSchema,
  items: z.array(itemSchema),
  definitions: z.looseObject({
    requests: z.array(requestSchema).optional(),
    folders: z.array(folderSchema).optional(),
    environments: z.array(environmentSchema).optional(),
    certificates: z.array(storedCertificateSchema).optional(),
    schemas: z.array(z.unknown()).optional(),
  }),
  license: z.looseObject({}).optional(),
  provider: z.looseObject({}).optional(),
});

export type ProjectDocument = z.infer<typeof projectDocumentSchema>;
export type ProjectRequest = z.infer<typeof requestSchema>;
export type ProjectFolder = z.infer<typeof folderSchema>;
export type ProjectEnvironment = z.infer<typeof environmentSchema>;
export type ProjectItem = z.infer<typeof itemSchema>;
export type Payload = z.infer<typeof payloadSchema>;
export type Property = z.infer<typeof propertySchema>;
export type Certificate = z.infer<typeof certificateSchema>;
export type StoredCertificate = z.infer<typeof storedCertificateSchema>;

/** The project document as JSON Schema (draft 2020-12 for clients, or OpenAPI 3.0's dialect for the API document). */
export const projectDocumentJsonSchema = (target: 'draft-2020-12' | 'openapi-3.0' = 'draft-2020-12') =>
  z.toJSONSchema(projectDocumentSchema, { target, unrepresentable: 'any' });

/** The kinds whose contents are checked when written, with the problem a bad document is. */
const checkedKinds = {
  [HTTP_PROJECT_KIND]: { schema: projectDocumentSchema, code: 'invalid_project_document', what: 'a project document' },
  [kinds.certificate]: { schema: storedCertificateSchema, code: 'invalid_certificate', what: 'a certificate (PEM certificate and key, or PKCS#12)' },
} as const;

/**
 * The one check on a file's contents when they are written: a `Core#HttpProject` must be a
 * project document, a `Core#Certificate` a certificate; contents of any other kind stay free-form.
 */
export function checkFileContents(kind: string, value: unknown): void {
  if (!Object.hasOwn(checkedKinds, kind)) return;
  const checked = checkedKinds[kind as keyof typeof checkedKinds];
  const parsed = checked.schema.safeParse(value);
  if (parsed.success) return;
  throw new StoreError(checked.code, `The contents of a ${kind} must be ${checked.what}.`, {
    errors: parsed.error.issues.slice(0, 20).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  });
}
