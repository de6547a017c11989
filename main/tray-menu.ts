import type { MenuItemConstructorOptions } from 'electron';
import type { SupervisorState } from './supervisor.js';

/** What the store's menu items do; the host supplies them (Electron's clipboard, shell, dialog). */
export interface StoreMenuActions {
  setLan(enabled: boolean): void;
  copyLanAddress(): void;
  inviteTeammate(): void;
  openDataFolder(): void;
  /** Ask the running store for a backup into its backups folder. */
  backUpNow(): void;
  /** Open the backups folder. */
  showBackups(): void;
  /** Start the store again after the supervisor gave up. */
  restartStore(): void;
}

/** One line saying how the store is doing, for the menu and the tooltip. */
export function statusLine(state: SupervisorState): string {
  switch (state.status) {
    case 'running':
      return `Store running on port ${state.port}`;
    case 'starting':
      return 'Store starting…';
    case 'restarting':
      return 'Store restarting after a failure…';
    case 'error':
      return 'Store stopped after repeated failures';
    case 'stopping':
      return 'Store stopping…';
    case 'stopped':
      return 'Store stopped';
  }
}

const info = (label: string): MenuItemConstructorOptions => ({ label, enabled: false });

function lanItems({ status, lan }: SupervisorState, actions: StoreMenuActions): MenuItemConstructorOptions[] {
  // Sharing is toggled through the running backend; while it is down there is nothing to share.
  const available = status === 'running';
  const items: MenuItemConstructorOptions[] = [
    { label: 'Share on LAN', type: 'checkbox', checked: lan.enabled, enabled: available, click: (item) => actions.setLan(item.checked) },
  ];
  if (!available) return items;
  if (lan.enabled) {
    if (lan.url) items.push(info(`Address: ${lan.url}`));
    if (lan.fingerprint) items.push(info(`Fingerprint: ${lan.fingerprint}`));
    items.push({ label: 'Copy LAN address', enabled: Boolean(lan.url), click: () => actions.copyLanAddress() });
    items.push({ label: 'Invite a teammate…', click: () => actions.inviteTeammate() });
  } else if (lan.error) {
    items.push(info(`Sharing failed: ${lan.error}`));
  }
  return items;
}

/**
 * The store's items for a state, a fragment the host puts in its own tray or menu (it adds its
 * own Quit). Pure, so every state is tested without Electron.
 */
export function storeMenuItems(state: SupervisorState, actions: StoreMenuActions, warnings: readonly string[] = []): MenuItemConstructorOptions[] {
  const status: MenuItemConstructorOptions[] = [info(statusLine(state)), ...[...warnings, ...(state.warnings ?? [])].map((warning) => info(`⚠ ${warning}`))];
  if (state.error && (state.status === 'error' || state.status === 'restarting')) status.push(info(state.error));
  if (state.status === 'error') status.push({ label: 'Restart the store', click: () => actions.restartStore() });
  return [
    ...status,
    { type: 'separator' },
    ...lanItems(state, actions),
    { type: 'separator' },
    // The store takes its backups itself, so only a running one can.
    { label: 'Back up now', enabled: state.status === 'running', click: () => actions.backUpNow() },
    { label: 'Show backups', click: () => actions.showBackups() },
    { label: 'Open data folder', click: () => actions.openDataFolder() },
  ];
}
