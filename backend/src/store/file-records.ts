/**
 * How files live in storage. One record per file in `files`; every other section is an index or
 * a part of a file, written in the same batch as the record it belongs to.
 *
 * | section | key | value |
 * |---|---|---|
 * | `files` | file key | `FileRecord` (trashed files stay here with `deleted: true`) |
 * | `file-children` | `{parentId}\0{key}` | `ChildEntry` (live files only; the listing by key) |
 * | `file-children-by-kind` | `{parentId}\0{kind}\0{key}` | `ChildEntry` |
 * | `file-children-by-updated` | `{parentId}\0{updated, 16 digits}\0{key}` | `ChildEntry` (the `since` listing) |
 * | `file-words` | `{scope}\0{term}\0{key}` | 0 (live files; the search index, see file-search.ts) |
 * | `file-trashed-children` | `{parentId}\0{key}` | key (trashed files, to walk a trashed subtree) |
 * | `file-media` | file key | `MediaRecord` (the file's contents) |
 * | `file-revisions` | `{key}\0{media version, 16 digits}` | `Revision` |
 * | `file-grants` | `{key}\0user:{id}` or `{key}\0anyone` | `Grant` (see access.ts) |
 * | `grants-by-user` | `{user}\0{key}` | `Role` (what `GET /shared` lists) |
 * | `trash` | file key | `TrashEntry` (roots of trashed subtrees) |
 * | `trash-by-user` | `{user}\0{time, 16 digits}\0{key}` | key (what `GET /trash` lists) |
 * | `file-keys-retired` | file key | time of the purge (a key deleted for good is never reused) |
 * | `file-secrets` | `{key}\0{secret id}` | a secret value of the contents, sealed (see secrets/contents.ts) |
 *
 * A key names one file for good: the change feed, history attachments and any other data kept
 * by file key outlive a purge, and would otherwise be handed to whoever created the key next.
 *
 * `parentId` is the parent space's key, or `rootOf(owner)` for a file at its owner's root.
 *
 * Changes every files mutation emits (paths `/files` and `/files/{key}`, `visibility: {file: key}`
 * unless noted; `id` is the file key and `parent` its parent space, absent at the root):
 * - `created` with the record as `data` (also when a file is restored from trash);
 * - `patch` with `{patch, revert}` for metadata; contents changes go to `/files/{key}` only,
 *   with `{media: true, version, patch, revert}` (a `PUT` is a `replace` of `""`);
 * - `deleted` for the file and every file of its subtree moved to trash (data `{trash: true}`);
 *   emptying the trash emits nothing more, the files were already gone for readers;
 * - `access-granted` (data `{type, id?, role}`) and `access-removed` (data `{type, id?}`); removing
 *   a user's grant names that user in `visibility.revoked`, so the user still hears of it.
 */

export const fileSections = {
  files: 'files',
  children: 'file-children',
  childrenByKind: 'file-children-by-kind',
  childrenByUpdated: 'file-children-by-updated',
  trashedChildren: 'file-trashed-children',
  words: 'file-words',
  media: 'file-media',
  revisions: 'file-revisions',
  grants: 'file-grants',
  grantsByUser: 'grants-by-user',
  trash: 'trash',
  trashByUser: 'trash-by-user',
  retiredKeys: 'file-keys-retired',
  secrets: 'file-secrets',
} as const;

export const SPACE_KIND = 'Core#Space';

/** Server-owned fields of a file record: no PATCH may touch them. */
export const protectedFileFields: ReadonlySet<string> = new Set([
  'key', 'kind', 'owner', 'parents', 'created', 'updated', 'lastModified', 'permissions', 'deleted', 'version',
]);

export interface FileRecord {
  key: string;
  kind: string;
  info: { name: string; description?: string; [field: string]: unknown };
  /** The user who created the file; always its owner. */
  owner: string;
  /** Ancestor spaces, the root-most first; empty at the root. */
  parents: string[];
  created: number;
  updated: number;
  lastModified: { user: string; time: number };
  /** Bumped by every metadata change; sent as the ETag. */
  version: number;
  /** Present while the file is in trash. */
  deleted?: true;
  [field: string]: unknown;
}

export interface ChildEntry {
  kind: string;
  /** Kept beside the key so that `query` filters without reading every record. */
  name: string;
  description?: string;
}

export interface MediaRecord {
  /** JSON contents; contents of another type are their bytes in base64, with `type`. */
  value: unknown;
  /** The Content-Type of contents that are not JSON; absent for JSON. */
  type?: string;
  /** Bumped by every contents change; sent as the ETag of `?alt=media`. */
  version: number;
  updated: number;
}

export interface Revision {
  /** The contents version this revision produced. */
  version: number;
  patch: unknown[];
  revert: unknown[];
  user: string;
  time: number;
  app?: string;
  appVersion?: string;
  /** The type of contents that are not JSON this revision stored (its `patch` replaces `""` with their base64). */
  type?: string;
  /** The type of the replaced contents when they were not JSON (its `revert` holds their base64). */
  previousType?: string;
}

export interface TrashEntry {
  user: string;
  time: number;
}

export const SEP = '\u0000';
/** Everything below a prefix `p` in key order: `{gte: p + SEP, lt: p + SEP_END}`. */
export const SEP_END = '\u0001';

/** The parent id of files at a user's root. `~` never appears in file keys. */
export const rootOf = (owner: string) => `~root~${owner}`;

export const parentIdOf = (record: Pick<FileRecord, 'owner' | 'parents'>) =>
  record.parents.length ? record.parents[record.parents.length - 1] : rootOf(record.owner);

/** Numbers as fixed-width strings so that key order is numeric order. */
export const pad = (n: number) => n.toString().padStart(16, '0');

export const below = (prefix: string) => ({ gte: prefix + SEP, lt: prefix + SEP_END });
