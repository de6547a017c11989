import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MenuItemConstructorOptions } from 'electron';
import { storeConnection } from '../../main/connection.js';
import { backUpNow, showBackups } from '../../main/backups.js';
import { createInvite } from '../../main/invite.js';
import type { SupervisorState } from '../../main/supervisor.js';
import { TrayController } from '../../main/tray.js';
import { storeMenuItems, type StoreMenuActions } from '../../main/tray-menu.js';
import { makeTempDir, startTestStore } from '../helpers/store.js';

function recordingActions() {
  const calls: string[] = [];
  const actions: StoreMenuActions = {
    setLan: (enabled) => void calls.push(`setLan:${enabled}`),
    copyLanAddress: () => void calls.push('copyLanAddress'),
    inviteTeammate: () => void calls.push('inviteTeammate'),
    openDataFolder: () => void calls.push('openDataFolder'),
    backUpNow: () => void calls.push('backUpNow'),
    showBackups: () => void calls.push('showBackups'),
    restartStore: () => void calls.push('restartStore'),
  };
  return { actions, calls };
}

const running: SupervisorState = { status: 'running', port: 4100, lan: { enabled: false } };
const lanOn: SupervisorState = { ...running, lan: { enabled: true, url: 'https://192.0.2.7:8443/v1', fingerprint: 'AA:BB:CC' } };

/** The menu as lines: label, with [x]/[ ] for checkboxes and (disabled) for inert items. */
function lines(template: MenuItemConstructorOptions[]): string[] {
  return template.map((item) => {
    if (item.type === 'separator') return '---';
    const box = item.type === 'checkbox' ? (item.checked ? '[x] ' : '[ ] ') : '';
    return `${box}${item.label}${item.enabled === false ? ' (disabled)' : ''}`;
  });
}

function click(template: MenuItemConstructorOptions[], label: string, checked?: boolean): void {
  const item = template.find((i) => i.label === label);
  assert.ok(item?.click, `no clickable "${label}"`);
  (item.click as (item: { checked?: boolean }) => void)({ checked });
}

test('running, LAN off', () => {
  const { actions, calls } = recordingActions();
  const template = storeMenuItems(running, actions);
  assert.deepEqual(lines(template), ['Store running on port 4100 (disabled)', '---', '[ ] Share on LAN', '---', 'Back up now', 'Show backups', 'Open data folder']);
  click(template, 'Share on LAN', true);
  click(template, 'Back up now');
  click(template, 'Show backups');
  click(template, 'Open data folder');
  assert.deepEqual(calls, ['setLan:true', 'backUpNow', 'showBackups', 'openDataFolder']);
});

test('running, LAN on: address, fingerprint, copy and invite', () => {
  const { actions, calls } = recordingActions();
  const template = storeMenuItems(lanOn, actions);
  assert.deepEqual(lines(template), [
    'Store running on port 4100 (disabled)',
    '---',
    '[x] Share on LAN',
    'Address: https://192.0.2.7:8443/v1 (disabled)',
    'Fingerprint: AA:BB:CC (disabled)',
    'Copy LAN address',
    'Invite a teammate…',
    '---',
    'Back up now',
    'Show backups',
    'Open data folder',
  ]);
  click(template, 'Share on LAN', false);
  click(template, 'Copy LAN address');
  click(template, 'Invite a teammate…');
  assert.deepEqual(calls, ['setLan:false', 'copyLanAddress', 'inviteTeammate']);
});

test('running, LAN failed: the error is shown and the box stays unchecked', () => {
  const { actions } = recordingActions();
  const state: SupervisorState = { ...running, lan: { enabled: false, error: 'Port 8443 is in use.' } };
  assert.deepEqual(lines(storeMenuItems(state, actions)).slice(2, 4), ['[ ] Share on LAN', 'Sharing failed: Port 8443 is in use. (disabled)']);
});

test('restarting: LAN unavailable, the failure shown', () => {
  const { actions } = recordingActions();
  const state: SupervisorState = { status: 'restarting', error: 'The store exited unexpectedly (exit code 1).', lan: { enabled: false } };
  assert.deepEqual(lines(storeMenuItems(state, actions)), [
    'Store restarting after a failure… (disabled)',
    'The store exited unexpectedly (exit code 1). (disabled)',
    '---',
    '[ ] Share on LAN (disabled)',
    '---',
    'Back up now (disabled)',
    'Show backups',
    'Open data folder',
  ]);
});

test('starting: LAN unavailable', () => {
  const { actions } = recordingActions();
  assert.deepEqual(lines(storeMenuItems({ status: 'starting', lan: { enabled: false } }, actions)).slice(0, 4), [
    'Store starting… (disabled)',
    '---',
    '[ ] Share on LAN (disabled)',
    '---',
  ]);
});

test('error: the reason and a way to try again', () => {
  const { actions, calls } = recordingActions();
  const state: SupervisorState = { status: 'error', error: 'The store failed repeatedly and was not restarted. Last error: locked', lan: { enabled: false } };
  const template = storeMenuItems(state, actions);
  assert.deepEqual(lines(template), [
    'Store stopped after repeated failures (disabled)',
    'The store failed repeatedly and was not restarted. Last error: locked (disabled)',
    'Restart the store',
    '---',
    '[ ] Share on LAN (disabled)',
    '---',
    'Back up now (disabled)',
    'Show backups',
    'Open data folder',
  ]);
  click(template, 'Restart the store');
  assert.deepEqual(calls, ['restartStore']);
});

test('the controller keeps its Tray and sets a new menu (store items, then the app\'s) and tooltip on every change', () => {
  const menus: string[][] = [];
  const tooltips: string[] = [];
  const tray = { setContextMenu: (menu: unknown) => void menus.push(menu as string[]), setToolTip: (text: string) => void tooltips.push(text) };
  let state = running;
  const { actions, calls } = recordingActions();
  const controller = new TrayController(tray as never, (template) => lines(template) as never, () => storeMenuItems(state, actions), [{ label: 'Quit', click: () => void calls.push('quit') }]);
  controller.show(running);
  state = lanOn;
  controller.show(lanOn);
  assert.equal(controller.tray, tray);
  assert.equal(menus.length, 2);
  assert.equal(menus[1][2], '[x] Share on LAN');
  assert.equal(menus[1].at(-1), 'Quit');
  assert.deepEqual(tooltips, ['api-store: Store running on port 4100', 'api-store: Store running on port 4100']);
});

test('"Invite a teammate" gets a single-use code from the store with the launch token', async () => {
  const store = await startTestStore();
  try {
    const connection = storeConnection({ status: 'running', port: store.running.port, lan: { enabled: true } }, { host: '127.0.0.1', prefix: '/v1', token: store.token });
    assert.ok(connection);
    const invite = await createInvite(connection);
    assert.match(invite.code, /\S{6,}/);
    assert.ok(invite.expires > Date.now());
    await assert.rejects(createInvite({ ...connection, token: 'not-the-token-but-long-enough-to-look-real' }), /./);
  } finally {
    await store.stop();
  }
});

test('"Back up now" has the running store write a backup with the launch token; "Show backups" opens its folder', async () => {
  const store = await startTestStore();
  try {
    const connection = storeConnection({ status: 'running', port: store.running.port, lan: { enabled: false } }, { host: '127.0.0.1', prefix: '/v1', token: store.token });
    assert.ok(connection);
    const backup = await backUpNow(connection);
    assert.equal(backup.reason, 'manual');
    const folder = join(store.dataDir, 'backups');
    assert.equal((await stat(join(folder, backup.name))).size, backup.size);
    await assert.rejects(backUpNow({ ...connection, token: 'not-the-token-but-long-enough-to-look-real' }), /./);

    const opened: string[] = [];
    await showBackups(store.dataDir, async (path) => {
      opened.push(path);
      return '';
    });
    assert.deepEqual(opened, [folder]);
    await assert.rejects(showBackups(store.dataDir, async () => 'no file manager'), /no file manager/);
  } finally {
    await store.stop();
  }
});

test('"Show backups" makes the folder (0700) when no backup was taken yet', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const opened: string[] = [];
  await showBackups(dataDir, async (path) => {
    opened.push(path);
    return '';
  });
  assert.equal((await stat(opened[0])).mode & 0o777, 0o700);
});
