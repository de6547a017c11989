import type { Menu, MenuItemConstructorOptions, Tray } from 'electron';
import { statusLine } from './tray-menu.js';
import type { SupervisorState } from './supervisor.js';

/**
 * Owns the app's tray icon: holds the `Tray` (an unreferenced one is garbage-collected and
 * vanishes) and rebuilds the menu on every change, since a shown menu does not follow later item
 * changes. The menu is the store's items followed by the app's own.
 */
export class TrayController {
  constructor(
    readonly tray: Pick<Tray, 'setContextMenu' | 'setToolTip'>,
    private readonly buildMenu: (template: MenuItemConstructorOptions[]) => Menu,
    private readonly storeItems: () => MenuItemConstructorOptions[],
    private readonly appItems: MenuItemConstructorOptions[],
  ) {}

  show(state: SupervisorState): void {
    this.tray.setToolTip(`api-store: ${statusLine(state)}`);
    this.tray.setContextMenu(this.buildMenu([...this.storeItems(), ...this.appItems]));
  }
}
