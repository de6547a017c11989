import { StoreError } from './store-error.js';
import { checkFileContents } from '../projects/project-document.js';
import { checkByteSize, checkSize, type DocumentLimits } from './document-limits.js';
import { below, fileSections, pad, SEP, type FileRecord, type MediaRecord, type Revision } from './file-records.js';
import { checkVersion, parentOf, readVisibleFile, replaceRecord, requireRole, touched } from './files.js';
import { applyJsonPatch, type PatchOperation, type PatchRequest } from './json-patch.js';
import { readPage, type Page, type PageRequest } from './paging.js';
import type { Storage } from './storage.js';
import type { Store } from './store.js';
import { revealContents, sealContents } from '../secrets/contents.js';

/**
 * A file's contents ("media"): any JSON value, or bytes of any other type (kept in base64 with
 * their Content-Type), versioned on their own. Only JSON contents take a patch. Every change stores a
 * revision (the patch, its revert, who and when) and refreshes the file's `updated` so that
 * `since` listings see it.
 */

const noContents = (key: string) => new StoreError('media_not_found', `The file ${key} has no contents yet.`);

export async function readMedia(storage: Storage, user: string, key: string): Promise<MediaRecord> {
  await readVisibleFile(storage, user, key);
  const media = await storage.get<MediaRecord>(fileSections.media, key);
  if (!media) throw noContents(key);
  return media;
}

/**
 * The contents with their secrets' values in place of the markers: writers and above only (in
 * single-user mode the one user owns everything). Answers how many values it revealed.
 */
export async function revealMedia(store: Store, user: string, key: string): Promise<{ media: MediaRecord; revealed: number }> {
  const file = await readVisibleFile(store.storage, user, key);
  requireRole(file, 'writer', 'reveal the secrets of');
  const media = await store.storage.get<MediaRecord>(fileSections.media, key);
  if (!media) throw noContents(key);
  if (media.type !== undefined) return { media, revealed: 0 };
  const { document, values } = await revealContents(store.secrets, store.storage, key, file.record.kind, media.value);
  return { media: { ...media, value: document }, revealed: values.length };
}

export const revisionKey = (fileKey: string, version: number) => `${fileKey}${SEP}${pad(version)}`;

/** A change of the contents: a new JSON document, a patch of the JSON document, or bytes of another type. */
export type MediaChange = { replace: unknown } | { patch: PatchRequest } | { bytes: Buffer; type: string };

/**
 * Replaces (`replace`, `bytes`) or patches (`patch`) the contents, writer and above, honouring
 * `If-Match` against the contents version. A `PUT` is recorded as a `replace` of the whole
 * document (of the base64 of bytes).
 */
export async function changeMedia(
  store: Store,
  user: string,
  key: string,
  change: MediaChange,
  options: { ifMatch?: string } & DocumentLimits,
): Promise<{ media: MediaRecord; revert: PatchOperation[] }> {
  return store.mutate(async (m) => {
    // The role is checked before anything is parsed or applied: a reader's patch changes nothing.
    const file = await readVisibleFile(store.storage, user, key);
    requireRole(file, 'writer', 'change the contents of');
    const current = await store.storage.get<MediaRecord>(fileSections.media, key);
    if (!current && 'patch' in change) throw noContents(key);
    if (current) checkVersion(options.ifMatch, current.version);
    if (current?.type !== undefined && 'patch' in change) {
      throw new StoreError('contents_not_json', `The contents of ${key} are ${current.type}, not JSON: replace them with PUT.`, { extra: { type: current.type } });
    }
    const previous = current?.value ?? null;
    let patch: PatchOperation[];
    let outcome: { document: unknown; revert: PatchOperation[] };
    if ('patch' in change) {
      patch = change.patch.patch;
      outcome = applyJsonPatch(previous, patch, { maxDepth: options.maxDepth });
      checkSize(outcome.document, options.maxBytes, 'A file’s contents');
    } else {
      // Bytes are capped as sent, not as the larger base64 they are kept in.
      if ('bytes' in change) checkByteSize(change.bytes.length, options.maxBytes, 'A file’s contents');
      else checkSize(change.replace, options.maxBytes, 'A file’s contents');
      const document = 'bytes' in change ? change.bytes.toString('base64') : change.replace;
      patch = [{ op: 'replace', path: '', value: document }] as PatchOperation[];
      outcome = { document, revert: [{ op: 'replace', path: '', value: previous }] as PatchOperation[] };
    }
    checkFileContents(file.record.kind, outcome.document);
    if (!('bytes' in change)) {
      // Secret values are sealed apart; when that changed the document, the patch sent would put
      // plaintext in the revision and the feed: they record the sealed document whole instead.
      const sealed = await sealContents(store.secrets, store.storage, m, key, file.record.kind, outcome.document, previous);
      if (sealed.rewritten) {
        patch = [{ op: 'replace', path: '', value: sealed.document }] as PatchOperation[];
        outcome = { document: sealed.document, revert: [{ op: 'replace', path: '', value: previous }] as PatchOperation[] };
      }
    }
    const type = 'bytes' in change ? change.type : undefined;
    const media: MediaRecord = { value: outcome.document, version: (current?.version ?? 0) + 1, updated: m.now, ...(type ? { type } : {}) };
    const app = 'patch' in change ? { app: change.patch.app, appVersion: change.patch.appVersion } : {};
    const types = { ...(type ? { type } : {}), ...(current?.type ? { previousType: current.type } : {}) };
    const revision: Revision = { version: media.version, patch, revert: outcome.revert, user, time: m.now, ...app, ...types };
    const record: FileRecord = touched(file.record, user, m.now);
    await replaceRecord(m, store.storage, record, file.record);
    m.put(fileSections.media, key, media);
    m.put(fileSections.revisions, revisionKey(key, media.version), revision);
    m.change({
      operation: 'patch', kind: record.kind, id: key, parent: parentOf(record),
      data: { media: true, version: media.version, patch, revert: outcome.revert, ...types },
      paths: [`/files/${key}`], visibility: { file: key },
    });
    return { media, revert: outcome.revert };
  });
}

/** One page of a file's revisions, newest first (readers and above). */
export async function listRevisions(storage: Storage, user: string, key: string, page: PageRequest): Promise<Page<Revision>> {
  await readVisibleFile(storage, user, key);
  return readPage<Revision, Revision>(storage, fileSections.revisions, { ...below(key), reverse: true }, page, async (chunk) => chunk.map(([, revision]) => revision));
}
