import { changeGrants } from '../../backend/src/store/sharing.js';
import { createAppRecords, deleteAppRecords } from '../../backend/src/store/app-data.js';
import { changeMedia } from '../../backend/src/store/file-media.js';
import { createFile, patchFile } from '../../backend/src/store/files.js';
import { createHistory, historyAccessOf } from '../../backend/src/store/history.js';
import { createSession } from '../../backend/src/store/sessions.js';
import type { Store } from '../../backend/src/store/store.js';
import { deleteFromTrash, trashFile } from '../../backend/src/store/trash.js';
import { createUser } from '../../backend/src/store/users.js';

/** What `populateStore` made, for tests that break one piece of it on purpose. */
export interface Populated {
  space: string;
  project: string;
  trashed: string;
  alice: string;
}

/**
 * One of every kind of record api-store keeps, written through the store's own functions: a
 * space with a project (contents, revisions, a grant), a trashed file, a purged one (its key retired), users and a session,
 * history attached to the space, app records (one deleted).
 */
export async function populateStore(store: Store, owner = 'owner'): Promise<Populated> {
  const limits = { maxBytes: 1_000_000, maxDepth: 100 };
  const alice = await createUser(store, { username: 'Alice', name: 'Alice', admin: false, oidc: { issuer: 'https://idp.test', subject: 'a1' } });
  await createSession(store, alice.key, 60_000);
  const space = await createFile(store, owner, { input: { kind: 'Core#Space', info: { name: 'Space', description: 'team space' } } }, limits);
  const project = await createFile(store, owner, { parent: space.key, input: { kind: 'Core#Project', info: { name: 'Project' } }, media: { value: { requests: [] } } }, limits);
  await changeMedia(store, owner, project.key, { replace: { requests: [1] } }, limits);
  await patchFile(store, owner, project.key, { patch: [{ op: 'replace', path: '/info/name', value: 'Renamed' }] } as never, limits);
  await changeGrants(store, owner, space.key, [{ op: 'add', type: 'user', id: alice.key, value: 'writer' }, { op: 'add', type: 'anyone', value: 'reader' }]);
  const trashed = await createFile(store, owner, { parent: space.key, input: { kind: 'Core#Space', info: { name: 'Old' } } }, limits);
  await createFile(store, owner, { parent: trashed.key, input: { kind: 'Core#Project', info: { name: 'Inside old' } } }, limits);
  await trashFile(store, owner, trashed.key);
  const purged = await createFile(store, owner, { parent: space.key, input: { kind: 'Core#Project', info: { name: 'Purged' } } }, limits);
  await trashFile(store, owner, purged.key);
  await deleteFromTrash(store, owner, purged.key);
  await createHistory(store, historyAccessOf(store.storage, owner), [
    { app: 'app', log: { request: { url: 'https://a.test/', method: 'GET', headers: '', startTime: 1 } }, space: space.key, project: project.key, request: 'r1' },
    { app: 'app', log: { request: { url: 'https://b.test/', method: 'POST', headers: '', startTime: 2 } } },
  ]);
  const scope = { user: owner, appId: 'app', collection: 'projects' as const };
  const [, gone] = await createAppRecords(store, scope, [{ info: { name: 'kept' } }, { info: { name: 'gone' } }]);
  await deleteAppRecords(store, scope, [gone.key]);
  return { space: space.key, project: project.key, trashed: trashed.key, alice: alice.key };
}
