import { StoreError } from '../../store/store-error.js';

/** The formats an import recognises, as named in reports and errors. */
export type ImportFormat =
  | 'api-store' | 'api-client-project' | 'postman-collection-v2.0' | 'postman-collection-v2.1' | 'postman-environment'
  | 'insomnia-v4' | 'insomnia-v5' | 'har-1.2' | 'openapi-3' | 'swagger-2.0' | 'curl';

/** One file an import creates: a space or a project, with its contents. */
export interface PlannedFile {
  /** Kept when the source names the key (api-store's own format) and it is free; a new one otherwise. */
  key?: string;
  kind: string;
  /** The file's metadata besides key and kind (at least `info.name`). */
  meta: { info: { name: string; description?: string; [field: string]: unknown }; [field: string]: unknown };
  /** Index of the planned space this file goes in; the import's target when absent. */
  parent?: number;
  contents?: unknown;
}

/** A part of the source that has no place in the store, and why. */
export interface Skipped {
  /** A JSON pointer into the source (a line for cURL). */
  location: string;
  reason: string;
}

export interface ImportPlan {
  format: ImportFormat;
  files: PlannedFile[];
  skipped: Skipped[];
}

/** A JSON pointer segment (RFC 6901). */
export const pointer = (...segments: (string | number)[]) => segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** The source was recognised as `format` but cannot be read: nothing is imported. */
export function importFailed(format: ImportFormat | 'json' | 'yaml', location: string, detail: string): StoreError {
  return new StoreError('import_failed', `The ${format} file could not be imported: ${detail}`, { extra: { format, location } });
}
