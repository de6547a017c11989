import { z } from 'zod';
import { SPACE_KIND } from '../../store/file-records.js';
import { fileKeySchema, kindSchema } from '../../store/files.js';
import { HTTP_PROJECT_KIND, projectDocumentSchema } from '../project-document.js';
import { STORE_EXPORT_KIND } from '../export/api-store.js';
import { importFailed, pointer, type ImportPlan, type PlannedFile } from './plan.js';

/** api-store's own export format (see export/api-store.ts), and a bare API Client project document. */

const exportSchema = z.object({
  kind: z.literal(STORE_EXPORT_KIND),
  version: z.literal(1),
  files: z
    .array(
      z.object({
        key: fileKeySchema,
        kind: kindSchema,
        parent: fileKeySchema.optional(),
        meta: z.looseObject({ info: z.looseObject({ name: z.string().min(1).max(1000), description: z.string().max(10_000).optional() }) }),
        contents: z.unknown().optional(),
      }),
    )
    .min(1),
});

const firstIssue = (error: z.ZodError) => {
  const [issue] = error.issues;
  return { location: pointer(...issue.path.map((segment) => String(segment))), message: issue.message };
};

export function importStoreFormat(value: unknown): ImportPlan {
  const parsed = exportSchema.safeParse(value);
  if (!parsed.success) {
    const { location, message } = firstIssue(parsed.error);
    throw importFailed('api-store', location, message);
  }
  const indexOf = new Map<string, number>();
  const files: PlannedFile[] = parsed.data.files.map((file, index) => {
    if (indexOf.has(file.key)) throw importFailed('api-store', pointer('files', index, 'key'), `the key ${file.key} appears twice`);
    let parent: number | undefined;
    if (file.parent !== undefined) {
      parent = indexOf.get(file.parent);
      if (parent === undefined) throw importFailed('api-store', pointer('files', index, 'parent'), `the parent ${file.parent} is not listed before this file`);
      if (parsed.data.files[parent].kind !== SPACE_KIND) throw importFailed('api-store', pointer('files', index, 'parent'), `only spaces contain files`);
    }
    indexOf.set(file.key, index);
    return { key: file.key, kind: file.kind, meta: file.meta, ...(parent !== undefined ? { parent } : {}), ...('contents' in file ? { contents: file.contents } : {}) };
  });
  return { format: 'api-store', files, skipped: [] };
}

export function importProjectDocument(value: unknown): ImportPlan {
  const parsed = projectDocumentSchema.safeParse(value);
  if (!parsed.success) {
    const { location, message } = firstIssue(parsed.error);
    throw importFailed('api-client-project', location, message);
  }
  const name = parsed.data.info.name || 'Imported project';
  return { format: 'api-client-project', files: [{ kind: HTTP_PROJECT_KIND, meta: { info: { name } }, contents: parsed.data }], skipped: [] };
}
