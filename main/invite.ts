import type { Clipboard, Dialog } from 'electron';
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

/** "Invite a teammate…": shows address, fingerprint and a new code together, with a Copy button. */
export async function inviteTeammate(
  connection: StoreConnection | null,
  dialog: Pick<Dialog, 'showMessageBox' | 'showErrorBox'>,
  clipboard: Pick<Clipboard, 'writeText'>,
): Promise<void> {
  if (!connection?.lan.url) return;
  try {
    const invite = await createInvite(connection);
    const message = `Address: ${connection.lan.url}\nFingerprint: ${connection.lan.fingerprint ?? 'unknown'}\nInvite code: ${invite.code}\nValid until ${new Date(invite.expires).toLocaleString()}; it works once.`;
    const { response } = await dialog.showMessageBox({ type: 'info', title: 'Invite a teammate', message: 'Give your teammate these details', detail: message, buttons: ['Copy', 'Close'] });
    if (response === 0) clipboard.writeText(message);
  } catch (error) {
    dialog.showErrorBox('No invite was created', (error as Error).message);
  }
}
