import { z } from 'zod';
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

export const certificateSchema = z.looseObject({
  kind: z.literal(kinds.certificate),
  key: z.string().min(1),
  name: z.string().optional(),
  type: z.enum(['p12', 'pem']),
});

export const projectDocumentSchema = z.looseObject({
  kind: z.literal(HTTP_PROJECT_KIND),
  key: z.string().min(1).optional(),
  info: thingSchema,
  items: z.array(itemSchema),
  definitions: z.looseObject({
    requests: z.array(requestSchema).optional(),
    folders: z.array(folderSchema).optional(),
    environments: z.array(environmentSchema).optional(),
    certificates: z.array(certificateSchema).optional(),
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

/** The project document as JSON Schema (draft 2020-12 for clients, or OpenAPI 3.0's dialect for the API document). */
export const projectDocumentJsonSchema = (target: 'draft-2020-12' | 'openapi-3.0' = 'draft-2020-12') =>
  z.toJSONSchema(projectDocumentSchema, { target, unrepresentable: 'any' });

/**
 * The one check on a file's contents when they are written: a `Core#HttpProject` must be a
 * project document; contents of any other kind stay free-form.
 */
export function checkFileContents(kind: string, value: unknown): void {
  if (kind !== HTTP_PROJECT_KIND) return;
  const parsed = projectDocumentSchema.safeParse(value);
  if (parsed.success) return;
  throw new StoreError('invalid_project_document', 'The contents of a Core#HttpProject must be a project document.', {
    errors: parsed.error.issues.slice(0, 20).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  });
}
