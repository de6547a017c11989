import type { Menu, MenuItemConstructorOptions, Tray } from 'electron';
import type { SupervisorState } from './supervisor.js';
import { statusLine, trayMenuTemplate, type TrayActions } from './tray-menu.js';

/**
 * Owns the tray icon: holds the `Tray` (an unreferenced one is garbage-collected and vanishes)
 * and rebuilds the menu on every change, since a shown menu does not follow later item changes.
 */
export class TrayController {
  constructor(
    readonly tray: Pick<Tray, 'setContextMenu' | 'setToolTip'>,
    private readonly buildMenu: (template: MenuItemConstructorOptions[]) => Menu,
    private readonly actions: TrayActions,
  ) {}

  show(state: SupervisorState): void {
    this.tray.setToolTip(`api-store: ${statusLine(state)}`);
    this.tray.setContextMenu(this.buildMenu(trayMenuTemplate(state, this.actions)));
  }
}
