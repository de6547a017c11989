import { createHash, randomInt } from 'node:crypto';
import { StoreError } from './store-error.js';
import type { Store } from './store.js';
import { addUser, type UserRecord } from './users.js';

/** Readable over the phone: no 0/O, 1/I/L. */
const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const codeLength = 10;

interface InviteRecord {
  createdBy: string;
  created: number;
  expires: number;
}

/** Invites are stored under a hash of the code, so a copy of the data cannot redeem them. */
function inviteKey(code: string): string {
  return createHash('sha256').update(code.replace(/[\s-]/g, '').toUpperCase()).digest('base64url');
}

/** A new single-use invite code; only the hash is stored. */
export async function createInvite(store: Store, createdBy: string, lifetimeMs: number): Promise<{ code: string; expires: number }> {
  const code = Array.from({ length: codeLength }, () => alphabet[randomInt(alphabet.length)]).join('');
  return store.mutate((m) => {
    const expires = m.now + lifetimeMs;
    m.put('invites', inviteKey(code), { createdBy, created: m.now, expires } satisfies InviteRecord);
    return { code, expires };
  });
}

/** Spends the invite and creates the account in one batch: a code never makes two accounts. */
export function redeemInvite(store: Store, code: string, account: { username: string; name: string; passwordHash: string }): Promise<UserRecord> {
  return store.mutate(async (m) => {
    const key = inviteKey(code);
    const invite = await store.storage.get<InviteRecord>('invites', key);
    if (!invite || invite.expires <= m.now) {
      throw new StoreError('invalid_invite', 'The invite code is not valid (it may have expired or been used).');
    }
    const user = await addUser(store.storage, m, { ...account, admin: false });
    m.del('invites', key);
    return user;
  });
}
