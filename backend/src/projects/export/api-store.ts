import { below, fileSections, protectedFileFields, SPACE_KIND, type FileRecord, type MediaRecord } from '../../store/file-records.js';
import { readVisibleFile } from '../../store/files.js';
import type { KeyRange, Storage } from '../../store/storage.js';

/**
 * api-store's own export format: a project or a space with everything in it, as the files'
 * client-owned metadata and contents. Server-kept fields (owner, times, versions) are left out,
 * so that export → import into an empty store → export gives the same document.
 */

export const STORE_EXPORT_KIND = 'ApiStore#Export';

export interface ExportedFile {
  key: string;
  kind: string;
  /** The exported space this file is in; absent for the exported file itself. */
  parent?: string;
  /** The metadata a client wrote (`info` and any other field), without server-owned fields. */
  meta: { info: { name: string; [field: string]: unknown }; [field: string]: unknown };
  contents?: unknown;
}

export interface StoreExport {
  kind: typeof STORE_EXPORT_KIND;
  version: 1;
  files: ExportedFile[];
}

export interface TreeFile {
  record: FileRecord;
  contents?: unknown;
  /** The parent within the tree; absent for its root. */
  parent?: string;
}

/** How many children are read from the index at a time. */
const CHILDREN_PAGE = 200;

/**
 * A file the caller can read and, when it is a space, every live file below it, parents before
 * children in listing order. Roles inherit downwards, so the root's visibility covers the tree.
 */
export async function* readTree(storage: Storage, user: string, key: string): AsyncGenerator<TreeFile> {
  const { record } = await readVisibleFile(storage, user, key);
  const pending: { record: FileRecord; parent?: string }[] = [{ record }];
  while (pending.length) {
    const { record: file, parent } = pending.shift()!;
    const media = await storage.get<MediaRecord>(fileSections.media, file.key);
    yield { record: file, parent, ...(media ? { contents: media.value } : {}) };
    if (file.kind !== SPACE_KIND) continue;
    const children: FileRecord[] = [];
    let range: KeyRange = below(file.key);
    for (;;) {
      const keys: string[] = [];
      for await (const indexKey of storage.keys(fileSections.children, { ...range, limit: CHILDREN_PAGE })) keys.push(indexKey);
      const records = await storage.getMany<FileRecord>(fileSections.files, keys.map((indexKey) => indexKey.slice(indexKey.lastIndexOf('\0') + 1)));
      for (const child of records) if (child && !child.deleted) children.push(child);
      if (keys.length < CHILDREN_PAGE) break;
      range = { gt: keys.at(-1)!, lt: range.lt };
    }
    pending.unshift(...children.map((child) => ({ record: child, parent: file.key })));
  }
}

/** The metadata a client owns: everything but the server-kept fields. */
export const clientMetaOf = (record: FileRecord): ExportedFile['meta'] =>
  Object.fromEntries(Object.entries(record).filter(([field]) => !protectedFileFields.has(field))) as ExportedFile['meta'];

export async function exportStoreFormat(storage: Storage, user: string, key: string): Promise<StoreExport> {
  const files: ExportedFile[] = [];
  for await (const { record, parent, ...rest } of readTree(storage, user, key)) {
    files.push({ key: record.key, kind: record.kind, ...(parent ? { parent } : {}), meta: clientMetaOf(record), ...('contents' in rest ? { contents: rest.contents } : {}) });
  }
  return { kind: STORE_EXPORT_KIND, version: 1, files };
}
