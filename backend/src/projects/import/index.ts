import { randomUUID } from 'node:crypto';
import { checkByteSize, checkSize } from '../../store/document-limits.js';
import { placementIn, type Placement } from '../../store/file-search.js';
import { keyUsed, placementOfNewFile, stageNewFile } from '../../store/files.js';
import type { Store } from '../../store/store.js';
import { checkFileContents } from '../project-document.js';
import { detectFormat, type ImportSource } from './detect.js';
import { HarProject, importCurl, importHar } from './har.js';
import type { ImportProgress } from './har-stream.js';
import { importInsomniaV4, importInsomniaV5 } from './insomnia.js';
import { importFailed, type ImportFormat, type ImportPlan, type Skipped } from './plan.js';
import { StoreError } from '../../store/store-error.js';
import { importProjectDocument, importStoreFormat } from './store-format.js';

export type { ImportSource } from './detect.js';

/**
 * An import: detect the format, map the source to the files it becomes (nothing written yet),
 * then write every space, project and contents in one batch, or nothing.
 */

export async function planImport(source: ImportSource, maxDepth: number): Promise<ImportPlan> {
  const { format, value } = await detectFormat(source, maxDepth);
  try {
    return await mapSource(format, value);
  } catch (error) {
    // A mapper meeting a shape it did not expect is still the file's fault, never a 500.
    if (error instanceof StoreError) throw error;
    throw importFailed(format, '', (error as Error).message);
  }
}

/** Postman's SDK and the OpenAPI parser are large: each loads with the first import that needs it. */
async function mapSource(format: ImportFormat, value: unknown): Promise<ImportPlan> {
  switch (format) {
    case 'api-store':
      return importStoreFormat(value);
    case 'api-client-project':
      return importProjectDocument(value);
    case 'postman-collection-v2.0':
    case 'postman-collection-v2.1':
      return (await import('./postman.js')).importPostmanCollection(value, format);
    case 'postman-environment':
      return (await import('./postman.js')).importPostmanEnvironment(value);
    case 'insomnia-v4':
      return importInsomniaV4(value);
    case 'insomnia-v5':
      return importInsomniaV5(value);
    case 'har-1.2':
      return importHar(value);
    case 'openapi-3':
    case 'swagger-2.0':
      return (await import('./openapi.js')).importOpenApi(value, format);
    case 'curl':
      return importCurl(value as string);
  }
}

export interface CreatedFile {
  key: string;
  kind: string;
  name: string;
  /** The space it was created in; absent at the caller's root. */
  parent?: string;
  /** The key the source gave it, when that key was taken and this one replaces it. */
  sourceKey?: string;
}

export interface ImportReport {
  format: ImportPlan['format'];
  created: CreatedFile[];
  skipped: Skipped[];
}

export interface ImportLimits {
  metadataBytes: number;
  mediaBytes: number;
}

/** Writes a plan in `parent` (the caller's root when absent) in one atomic batch. */
export async function applyImport(store: Store, user: string, parent: string | undefined, plan: ImportPlan, limits: ImportLimits): Promise<ImportReport> {
  for (const file of plan.files) {
    if ('contents' in file) {
      checkFileContents(file.kind, file.contents);
      checkSize(file.contents, limits.mediaBytes, `The contents of ${file.meta.info.name}`);
    }
  }
  return store.mutate(async (m) => {
    const rootPlacement = await placementOfNewFile(store.storage, user, parent);
    const placed: { key: string; placement: Placement }[] = [];
    const created: CreatedFile[] = [];
    const taken = new Set<string>();
    for (const file of plan.files) {
      let key = file.key ?? randomUUID();
      if (file.key !== undefined && (taken.has(key) || (await keyUsed(store.storage, key)))) key = randomUUID();
      taken.add(key);
      const above = file.parent === undefined ? undefined : placed[file.parent];
      const placement = above ? placementIn({ key: above.key, owner: user }, above.placement) : rootPlacement;
      const { parents } = placement;
      const record = stageNewFile(m, {
        input: { ...file.meta, key, kind: file.kind, info: file.meta.info },
        owner: user,
        placement,
        ...('contents' in file ? { media: { value: file.contents } } : {}),
      }, store.secrets);
      checkSize(record, limits.metadataBytes, `The metadata of ${file.meta.info.name}`);
      placed.push({ key, placement });
      created.push({
        key, kind: file.kind, name: file.meta.info.name,
        ...(parents.length ? { parent: parents.at(-1) } : {}),
        ...(file.key !== undefined && file.key !== key ? { sourceKey: file.key } : {}),
      });
    }
    return { format: plan.format, created, skipped: plan.skipped };
  });
}

export interface HarImportLimits extends ImportLimits {
  harImportBytes: number;
  jsonDepth: number;
}

/**
 * A HAR read from its bytes as they arrive: a project with one request per entry, written in one
 * batch. Memory holds the project (capped like any file's contents) and one entry at a time.
 */
export async function importHarStream(
  store: Store,
  user: string,
  parent: string | undefined,
  bytes: AsyncIterable<Buffer>,
  limits: HarImportLimits,
  onProgress?: (progress: ImportProgress) => void,
): Promise<ImportReport> {
  // The target is checked before a large body is read (and again in the write's batch).
  await placementOfNewFile(store.storage, user, parent);
  const project = new HarProject();
  const { readHarStream } = await import('./har-stream.js');
  await readHarStream(bytes, { maxBytes: limits.harImportBytes, maxDepth: limits.jsonDepth, keepResponses: false, onProgress }, {
    creator: (value) => project.setCreator(value),
    entry: (value, index) => {
      project.addEntry(value, index);
      checkByteSize(project.size, limits.mediaBytes, 'The contents of the imported project');
    },
  });
  return applyImport(store, user, parent, project.plan(), limits);
}
