import jsonpatch from 'fast-json-patch';
import { z } from 'zod';
import { StoreError } from './store-error.js';
import { checkDepth } from './document-limits.js';
import { withFields } from './with-fields.js';

/**
 * RFC 6902 JSON Patch for every patchable record (file metadata, file contents, app data):
 * applied atomically to a copy, never touching server-owned fields, and answered with `revert`,
 * the patch that restores the previous client-visible state.
 */

/** An RFC 6901 JSON pointer: empty (the whole document) or `/`-separated, `~` escaped as `~0`/`~1`. */
const pointer = z.string().max(2048).regex(/^(\/([^~]|~[01])*)*$/, 'must be a JSON pointer such as /info/name');
/**
 * Any JSON value, present. (Bodies are parsed JSON already; `z.json()` would be stricter but is
 * recursive, which the OpenAPI generator cannot walk.)
 */
export const jsonValueSchema = z.unknown().refine((value) => value !== undefined, 'is required');
const value = jsonValueSchema;

export const patchOperationSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), path: pointer, value }),
  z.object({ op: z.literal('remove'), path: pointer }),
  z.object({ op: z.literal('replace'), path: pointer, value }),
  z.object({ op: z.literal('move'), from: pointer, path: pointer }),
  z.object({ op: z.literal('copy'), from: pointer, path: pointer }),
  z.object({ op: z.literal('test'), path: pointer, value }),
]);

export type PatchOperation = z.infer<typeof patchOperationSchema>;

const operations = z.array(patchOperationSchema).min(1).max(1000);

/** A PATCH body: `{app, appVersion, patch}` (net-store's shape) or a bare array of operations. */
export const patchBodySchema = z.union([
  operations,
  z.object({ app: z.string().max(256).optional(), appVersion: z.string().max(64).optional(), patch: operations }),
]);

export type PatchBody = z.infer<typeof patchBodySchema>;

export interface PatchRequest {
  app?: string;
  appVersion?: string;
  patch: PatchOperation[];
}

/** Normalizes both accepted body shapes to `{app?, appVersion?, patch}`. */
export function patchRequestOf(body: PatchBody): PatchRequest {
  return Array.isArray(body) ? { patch: body } : body;
}

export interface PatchOutcome<T> {
  /** The patched document, server-owned fields as they were. */
  document: T;
  /** Restores the previous client-visible state when applied to `document`. */
  revert: PatchOperation[];
}

/** The first path segment of a pointer (`undefined` for the whole document), unescaped. */
function topField(path: string): string | undefined {
  if (path === '') return undefined;
  const end = path.indexOf('/', 1);
  return jsonpatch.unescapePathComponent(path.slice(1, end === -1 ? undefined : end));
}

/**
 * Refuses operations that touch a protected field: its own path or subtree, a `move`/`copy`
 * source, and the whole document (`""`), which would replace them all. `/` names the field
 * with the empty name, refused too when protection is on so no client field can shadow anything.
 */
function checkProtected(patch: PatchOperation[], protectedFields: ReadonlySet<string>): void {
  if (protectedFields.size === 0) return;
  patch.forEach((operation, index) => {
    const paths = 'from' in operation ? [operation.path, operation.from] : [operation.path];
    for (const path of paths) {
      const field = topField(path);
      if (field === undefined || field === '' || protectedFields.has(field)) {
        throw new StoreError('protected_field', `Operation ${index} (${operation.op} ${path || '""'}) touches a field the server maintains.`, {
          errors: [{ path: `body.patch.${index}`, message: `${path || '""'} is server-maintained` }],
        });
      }
    }
  });
}

const isContainer = (x: unknown): x is object => typeof x === 'object' && x !== null;

/** The patch that turns `after` back into `before`. */
function revertOf(before: unknown, after: unknown): PatchOperation[] {
  if (isContainer(before) && isContainer(after) && Array.isArray(before) === Array.isArray(after)) {
    return jsonpatch.compare(after, before) as PatchOperation[];
  }
  return [{ op: 'replace', path: '', value: before ?? null }];
}

/**
 * Applies `patch` to `document` without modifying it. Fields in `protectedFields` cannot be
 * touched (400 `protected_field`); a failing operation, `test` included, fails the whole patch
 * (400 `invalid_patch`) and nothing changes. `revert` covers only client-visible fields. A patch
 * can nest a document deeper than any body (`copy` a subtree into itself): a result deeper than
 * `maxDepth` is refused (400 `too_deep`) before anything walks it recursively.
 */
export function applyJsonPatch<T>(
  document: T,
  patch: PatchOperation[],
  options: { protectedFields?: ReadonlySet<string>; maxDepth: number },
): PatchOutcome<T> {
  const protectedFields = options.protectedFields ?? new Set<string>();
  checkProtected(patch, protectedFields);
  const isRecord = isContainer(document) && !Array.isArray(document);
  const server: Record<string, unknown> = {};
  // The client-visible fields, shallow: the patch works on a clone of them, and `revert` compares
  // the result with them untouched.
  let client: unknown = document;
  if (isRecord && protectedFields.size) {
    const fields = document as Record<string, unknown>;
    // `fromEntries` defines the fields, as a clone does (a `__proto__` field stays a field).
    client = Object.fromEntries(Object.entries(fields).filter(([field]) => !protectedFields.has(field)));
    for (const field of protectedFields) if (field in fields) server[field] = fields[field];
  }
  let patched: unknown;
  try {
    // Operations are cloned too: the library inserts `value`s by reference. Both are JSON, which
    // the library's JSON round trip clones in a fraction of `structuredClone`'s time.
    patched = jsonpatch.applyPatch(jsonpatch.deepClone(client), jsonpatch.deepClone(patch) as jsonpatch.Operation[], true, true).newDocument;
  } catch (error) {
    const failure = error as { name?: string; index?: number; message?: string };
    const at = failure.index !== undefined ? `Operation ${failure.index}` : 'The patch';
    throw new StoreError('invalid_patch', `${at} cannot be applied: ${(failure.message ?? String(error)).split('\n')[0]}`, {
      extra: { reason: failure.name },
    });
  }
  checkDepth(patched, options.maxDepth);
  const revert = revertOf(client, patched);
  const result = isRecord && isContainer(patched) && !Array.isArray(patched) ? withFields(patched, server) : patched;
  return { document: result as T, revert };
}
