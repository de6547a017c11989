import { StoreError } from '../store/store-error.js';
import { certificateSchema, kinds, type Certificate } from '../projects/project-document.js';
import { fileSections, type MediaRecord } from '../store/file-records.js';
import { readVisibleFile } from '../store/files.js';
import type { Store } from '../store/store.js';
import { revealContents } from '../secrets/contents.js';
import { ProxyFailure } from './failure.js';

/**
 * The one place a stored certificate (a file of kind `Core#Certificate`) is loaded to be sent:
 * its secrets, sealed at rest, are opened here. Only a caller who may read the file gets
 * it (see below); a missing, trashed or hidden file is the same `certificate_not_found`, so a key reveals
 * nothing about other users' files.
 */
export async function readStoredCertificate(store: Store, user: string, key: string): Promise<Certificate> {
  let file;
  try {
    file = await readVisibleFile(store.storage, user, key);
  } catch (error) {
    if (error instanceof StoreError && error.code === 'file_not_found') throw new ProxyFailure('certificate_not_found', `There is no certificate ${key} that you can read.`);
    throw error;
  }
  if (file.record.kind !== kinds.certificate) throw new ProxyFailure('certificate_not_found', `File ${key} is a ${file.record.kind}, not a ${kinds.certificate}.`);
  const media = await store.storage.get<MediaRecord>(fileSections.media, key);
  // Presenting a certificate sends none of its secrets, so any reader may use it; its key is opened only here.
  const opened = media && (await revealContents(store.secrets, store.storage, key, kinds.certificate, media.value));
  const parsed = certificateSchema.safeParse(opened?.document);
  if (!parsed.success) throw new ProxyFailure('certificate_not_found', `File ${key} holds no certificate yet.`);
  return parsed.data;
}
