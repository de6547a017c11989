import type { StoreConnection } from '../preload/api.js';

export interface Invite {
  code: string;
  /** epoch milliseconds */
  expires: number;
}

/** Asks the store for a single-use invite code; the desktop user is the store's admin. */
export async function createInvite(connection: StoreConnection, fetchFn: typeof fetch = fetch): Promise<Invite> {
  const response = await fetchFn(`${connection.baseUrl}/auth/invites`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${connection.token}`, 'Content-Type': 'application/json' },
    body: '{}',
  });
  const body = (await response.json()) as Invite & { detail?: string };
  if (!response.ok) throw new Error(body.detail ?? `The store answered ${response.status}.`);
  return { code: body.code, expires: body.expires };
}
