import { ApiError } from '../http/problem.js';
import { certificateSchema, kinds, type Certificate } from '../projects/project-document.js';
import { fileSections, type MediaRecord } from '../store/file-records.js';
import { readVisibleFile } from '../store/files.js';
import type { Store } from '../store/store.js';
import { ProxyFailure } from './failure.js';

/**
 * The one place a stored certificate (a file of kind `Core#Certificate`) is loaded to be sent:
 * secrets kept encrypted at rest are to be opened here. Only a caller who may read the file gets
 * it; a missing, trashed or hidden file is the same `certificate_not_found`, so a key reveals
 * nothing about other users' files.
 */
export async function readStoredCertificate(store: Store, user: string, key: string): Promise<Certificate> {
  let file;
  try {
    file = await readVisibleFile(store.storage, user, key);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'file_not_found') throw new ProxyFailure('certificate_not_found', `There is no certificate ${key} that you can read.`);
    throw error;
  }
  if (file.record.kind !== kinds.certificate) throw new ProxyFailure('certificate_not_found', `File ${key} is a ${file.record.kind}, not a ${kinds.certificate}.`);
  const media = await store.storage.get<MediaRecord>(fileSections.media, key);
  const parsed = certificateSchema.safeParse(media?.value);
  if (!parsed.success) throw new ProxyFailure('certificate_not_found', `File ${key} holds no certificate yet.`);
  return parsed.data;
}
