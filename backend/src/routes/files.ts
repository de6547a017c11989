import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { headerOf, type Api, type AppEnv } from '../http/env.js';
import { indexPosition, pageQuery } from '../http/page-query.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import { changeMedia, listRevisions, readMedia, revealMedia, type MediaChange } from '../store/file-media.js';
import type { MediaRecord } from '../store/file-records.js';
import {
  breadcrumbs, createFile, etagOf, fileInputSchema, fileKeySchema, kindSchema, listFiles, patchFile, readFiles, readVisibleFileJson,
  type FileInput,
} from '../store/files.js';
import { jsonValueSchema, patchBodySchema, patchRequestOf, type PatchOperation } from '../store/json-patch.js';
import { trashFile } from '../store/trash.js';
import { withFields } from '../store/with-fields.js';
import { createRoute, jsonBody, jsonResponse, pageOf } from '../http/openapi.js';
import { hasBody, isJson, jsonBodyOf, respondJson } from '../http/shell.js';
import { prefersMinimal } from '../http/prefer.js';

/**
 * `/files`: metadata of spaces and everything the app saves, and with `?alt=media` their
 * contents. Metadata and contents have their own versions (the ETag); PATCH, PUT and DELETE
 * honour `If-Match`.
 */

export const FileSchema = z
  .looseObject({
    key: z.string(),
    kind: z.string(),
    info: z.looseObject({ name: z.string(), description: z.string().optional() }),
    owner: z.string(),
    parents: z.array(z.string()),
    created: z.number(),
    updated: z.number(),
    lastModified: z.object({ user: z.string(), time: z.number() }),
    version: z.number(),
    deleted: z.boolean().optional(),
  })
  .openapi('File');

const MediaSchema = z
  .object({
    value: z.unknown().optional().openapi({ description: 'The JSON contents; absent with `Prefer: return=minimal` and for contents of other types' }),
    version: z.number(),
    revert: z.array(z.unknown()),
    type: z.string().optional().openapi({ description: 'The Content-Type of contents that are not JSON' }),
  })
  .openapi('FileContents');
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
/** Contents of a type other than JSON, as bytes. */
const bytes = { type: 'string' as const, format: 'binary' };
/**
 * Bodies whose shape depends on `?alt=media` are declared here for clients and validated by the
 * route (`parseBody`), which knows which shape applies.
 */
const createBody = {
  required: true,
  description: 'The file’s metadata; with `?alt=media`, `{meta, media}`: its metadata and its JSON contents',
  content: { 'application/json': { schema: { oneOf: [ref('FileInput'), ref('FileWithContents')] } } },
};
const contentsBody = {
  required: true,
  description: 'The new contents: a JSON document, or bytes of any other type, kept with their Content-Type',
  content: { 'application/json': { schema: {} }, '*/*': { schema: bytes } },
};
const minimalHeader = z.object({ prefer: z.string().optional().openapi({ description: '`return=minimal`: answer the version and the revert only' }) });
const notVisible = { 404: { description: 'No such file the caller can see (missing, in trash, or not shared)' } };

const alt = z.object({ alt: z.literal('media').optional() });
const readQuery = alt.extend({
  reveal: z.literal('secrets').optional().openapi({ description: 'With `alt=media`: secrets’ values in place of their markers (writers and owners; each reveal is logged)' }),
});
const keyParam = z.object({ key: fileKeySchema });
/** Create with contents: `POST /files?alt=media` with `{meta, media}`. */
/**
 * The store's file input, rebuilt here with the OpenAPI-aware zod: a schema made before
 * @hono/zod-openapi extended zod (the store modules load first in some processes) cannot be registered.
 */
const fileInputDocument = z.looseObject(fileInputSchema.shape);
const createWithMedia = z.object({ meta: fileInputDocument, media: jsonValueSchema });
const conflict = { 409: { description: 'The key is or was used by a file, or history is attached to it (`key_conflict`)' } };
const MAX_BATCH = 500;

const listQuery = pageQuery.extend({
  parent: fileKeySchema.optional(),
  kind: kindSchema.optional(),
  query: z.string().min(1).max(512).optional(),
  since: z.coerce.number().int().min(0).optional(),
});

/** Validates a body whose shape depends on the query (`alt=media`), as the route validators would. */
function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((issue) => ({ path: ['json', ...issue.path.map(String)].join('.'), message: issue.message }));
  throw new ApiError('validation_failed', 'The request is not valid.', { errors });
}

/** The body of a route whose schema depends on the query: the shell has capped, parsed and depth-checked it. */
const readJson = async (c: Context<AppEnv>) => {
  if (!hasBody(c)) throw new ApiError('validation_failed', 'A JSON body is required.', { errors: [{ path: 'json', message: 'required' }] });
  return jsonBodyOf(c);
};

/** A Content-Type as a client may send it: `type/subtype` and parameters. */
const mediaTypePattern = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+\s*(;.*)?$/;

/** The contents a PUT sends: a JSON document, or the bytes of any other type (octet-stream when none is named). */
async function contentsOf(c: Context<AppEnv>): Promise<MediaChange> {
  const type = c.req.header('Content-Type')?.trim() || 'application/octet-stream';
  if (isJson(type)) return { replace: await readJson(c) };
  if (type.length > 256 || !mediaTypePattern.test(type)) throw new ApiError('unsupported_media_type', 'The Content-Type is not a media type such as application/yaml.');
  return { bytes: Buffer.from(await c.req.arrayBuffer()), type };
}

/**
 * The answer to a contents change: the version and `revert`, and unless the client asked for
 * `return=minimal`, the JSON contents (the bytes of other types are read with GET).
 */
function mediaAnswer(c: Context<AppEnv>, media: MediaRecord, revert: PatchOperation[]) {
  c.header('ETag', etagOf(media.version));
  const answer = { version: media.version, revert, ...(media.type === undefined ? {} : { type: media.type }) };
  return c.json(prefersMinimal(c) || media.type !== undefined ? answer : { value: media.value, ...answer }, 200);
}

export function registerFiles(api: Api, services: Services): void {
  const { store, cursors, config, log } = services;
  const location = (key: string) => `${config.prefix}/files/${key}`;
  const metadataLimits = { maxBytes: config.limits.metadataBytes, maxDepth: config.limits.jsonDepth };
  const mediaLimits = { maxBytes: config.limits.mediaBytes, maxDepth: config.limits.jsonDepth };
  api.openAPIRegistry.register('FileInput', fileInputDocument);
  api.openAPIRegistry.register('FileWithContents', createWithMedia);

  api.openapi(
    createRoute({
      method: 'get',
      path: '/files',
      summary: 'One page of a space’s files, or of the caller’s root',
      description:
        '`parent` lists a space (the caller’s own root files otherwise), `kind` one kind, `since` files updated after a ' +
        'time (ms, oldest change first). `query` searches names and descriptions for files holding the start of each of its ' +
        'words, in key order: the parent’s children, or without `parent` every file the caller created or that is in a ' +
        'space the caller created (at any depth) or shared with the caller by name (not files readable through an `anyone` link).',
      request: { query: listQuery },
      responses: { 200: jsonResponse(pageOf(FileSchema), 'One page of files'), ...notVisible },
    }),
    async (c) => {
      const { cursor, limit, ...filters } = c.req.valid('query');
      const user = c.get('caller').user;
      const list = cursors.open({ route: '/files', user }, indexPosition, { cursor, limit, filters });
      const result = await listFiles(store.storage, user, list.filters, list.page);
      return c.json(list.body(result.items, result.last), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/files',
      summary: 'Create a file in a space (or at the caller’s root)',
      description:
        'The body is the file’s metadata (`kind`, `info.name`, an optional URL-safe client `key`, kept exactly, any other JSON); with `?alt=media` it ' +
        'is `{meta, media}` and creates the contents in the same write. Server-owned fields in the body are ignored.',
      request: { query: alt.extend({ parent: fileKeySchema.optional() }), body: createBody },
      responses: {
        201: jsonResponse(FileSchema, 'The created file'),
        400: { description: 'Invalid body, or the parent is not a space (`parent_not_space`)' },
        404: { description: 'No such parent space the caller can see' },
        ...conflict,
      },
    }),
    async (c) => {
      const { alt: asked, parent } = c.req.valid('query');
      const body = await readJson(c);
      const { input, media }: { input: FileInput; media?: { value: unknown } } =
        asked === 'media'
          ? (({ meta, media: value }) => ({ input: meta, media: { value } }))(parseBody(createWithMedia, body))
          : { input: parseBody(fileInputSchema, body) };
      const record = await createFile(store, c.get('caller').user, { parent, input, media }, metadataLimits);
      return respondJson(c, JSON.stringify(record), ['Location', location(record.key), 'ETag', etagOf(record.version)], 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/files/batch',
      summary: 'Read many files at once',
      request: { ...jsonBody(z.array(fileKeySchema).min(1).max(MAX_BATCH)) },
      responses: { 200: jsonResponse(z.object({ items: z.array(FileSchema.nullable()) }), 'The files in the order asked; null for missing or not visible') },
    }),
    async (c) => c.json({ items: await readFiles(store.storage, c.get('caller').user, c.req.valid('json')) }, 200),
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/files/{key}',
      summary: 'A file’s metadata, or with `?alt=media` its contents',
      request: { params: keyParam, query: readQuery },
      responses: {
        200: {
          description:
            'The file (ETag: its version); with `?alt=media` its contents (ETag: their version) in their own Content-Type. ' +
            'A secret’s value reads as `{"$secret": id, "set": true}` unless `reveal=secrets` is given.',
          content: { 'application/json': { schema: { anyOf: [ref('File'), { description: 'With `?alt=media`: JSON contents' }] } }, '*/*': { schema: bytes } },
        },
        403: { description: '`reveal=secrets` by a reader or commenter (`forbidden_role`)' },
        404: { description: 'No such file the caller can see, or with `?alt=media` it has no contents yet (`media_not_found`)' },
        503: { description: 'With `reveal=secrets`: the store’s data key is missing or wrong (`secrets_locked`)' },
      },
    }),
    async (c) => {
      const { key } = c.req.valid('param');
      const user = c.get('caller').user;
      const query = c.req.valid('query');
      if (query.reveal !== undefined && query.alt !== 'media') throw new ApiError('validation_failed', 'reveal=secrets goes with alt=media.', { errors: [{ path: 'query.reveal', message: 'needs alt=media' }] });
      if (query.alt === 'media') {
        let media: MediaRecord;
        if (query.reveal === 'secrets') {
          const revealed = await revealMedia(store, user, key);
          media = revealed.media;
          // Who saw which file's secrets, never the values.
          log.warn('secrets revealed', { file: key, user, count: revealed.revealed });
        } else {
          media = await readMedia(store.storage, user, key);
        }
        c.header('ETag', etagOf(media.version));
        // `attachment`: a browser saves contents of a client-chosen type (text/html, say) instead of rendering them as the store's page.
        if (media.type !== undefined) return c.body(Buffer.from(media.value as string, 'base64'), 200, { 'Content-Type': media.type, 'Content-Disposition': 'attachment' });
        return c.json(media.value as object, 200);
      }
      const { json, version } = await readVisibleFileJson(store.storage, user, key);
      return respondJson(c, json, ['ETag', etagOf(version)]);
    },
  );

  api.openapi(
    createRoute({
      method: 'patch',
      path: '/files/{key}',
      summary: 'Patch a file’s metadata, or with `?alt=media` its contents (RFC 6902)',
      description:
        'The body is `{app, appVersion, patch}` or a bare array of operations. Server-owned fields cannot be patched. The ' +
        'answer carries `revert`, a patch that restores the previous state. Writers and owners only.',
      request: { params: keyParam, query: alt, headers: minimalHeader, ...jsonBody(patchBodySchema) },
      responses: {
        200: jsonResponse(
          z.union([FileSchema.extend({ revert: z.array(z.unknown()) }), MediaSchema]),
          'The patched file (or contents) and `revert`; with `Prefer: return=minimal` (`Preference-Applied`) the version and `revert` only',
        ),
        400: { description: '`invalid_patch` or `protected_field`; nothing was changed' },
        403: { description: 'The caller may only read this file' },
        409: { description: 'The contents are not JSON: replace them with PUT (`contents_not_json`)' },
        412: { description: 'If-Match names an older version (`version_conflict`)' },
        ...notVisible,
      },
    }),
    async (c) => {
      const { key } = c.req.valid('param');
      const user = c.get('caller').user;
      const request = patchRequestOf(c.req.valid('json'));
      const ifMatch = headerOf(c, 'if-match');
      if (c.req.valid('query').alt === 'media') {
        const { media, revert } = await changeMedia(store, user, key, { patch: request }, { ifMatch, ...mediaLimits });
        return mediaAnswer(c, media, revert);
      }
      const { record, revert } = await patchFile(store, user, key, request, { ifMatch, ...metadataLimits });
      return respondJson(c, JSON.stringify(prefersMinimal(c) ? { version: record.version, revert } : withFields(record, { revert })), ['ETag', etagOf(record.version)]);
    },
  );

  api.openapi(
    createRoute({
      method: 'put',
      path: '/files/{key}',
      summary: 'Replace a file’s contents (`?alt=media` required); stores a revision',
      description:
        'The body is the new contents: JSON, or any other type, stored as bytes and given back with the same Content-Type (only JSON ' +
        'contents take PATCH). With `Prefer: return=minimal` the answer holds the version and `revert` only.',
      request: { params: keyParam, query: z.object({ alt: z.literal('media') }), headers: minimalHeader, body: contentsBody },
      responses: {
        200: jsonResponse(MediaSchema, 'The new contents (JSON only), their version and `revert`'),
        403: { description: 'The caller may only read this file' },
        412: { description: 'If-Match names an older version (`version_conflict`)' },
        ...notVisible,
      },
    }),
    async (c) => {
      const ifMatch = c.req.header('If-Match');
      const { media, revert } = await changeMedia(store, c.get('caller').user, c.req.valid('param').key, await contentsOf(c), { ifMatch, ...mediaLimits });
      return mediaAnswer(c, media, revert);
    },
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/files/{key}',
      summary: 'Move a file and everything in it to trash (owners only)',
      request: { params: keyParam },
      responses: { 204: { description: 'In trash' }, 403: { description: 'Not an owner' }, 412: { description: 'If-Match names an older version' }, ...notVisible },
    }),
    async (c) => {
      await trashFile(store, c.get('caller').user, c.req.valid('param').key, c.req.header('If-Match'));
      return c.body(null, 204);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/files/{key}/revisions',
      summary: 'The contents’ revisions, newest first',
      request: { params: keyParam, query: pageQuery },
      responses: {
        200: jsonResponse(
          pageOf(z.object({ version: z.number(), patch: z.array(z.unknown()), revert: z.array(z.unknown()), user: z.string(), time: z.number() }).openapi('Revision')),
          'One page of revisions',
        ),
        ...notVisible,
      },
    }),
    async (c) => {
      const { key } = c.req.valid('param');
      const { cursor, limit } = c.req.valid('query');
      const user = c.get('caller').user;
      const list = cursors.open({ route: `/files/${key}/revisions`, user }, indexPosition, { cursor, limit, filters: {} });
      const result = await listRevisions(store.storage, user, key, list.page);
      return c.json(list.body(result.items as never[], result.last), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/files/{key}/breadcrumbs',
      summary: 'The spaces above a file that the caller can see, root-most first, then the file',
      request: { params: keyParam },
      responses: { 200: jsonResponse(z.object({ items: z.array(z.object({ key: z.string(), kind: z.string(), name: z.string() })) }), 'The path'), ...notVisible },
    }),
    async (c) => c.json({ items: await breadcrumbs(store.storage, c.get('caller').user, c.req.valid('param').key) }, 200),
  );
}
