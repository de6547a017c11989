import type { App } from 'electron';
import type { Supervisor } from './supervisor.js';

/**
 * Electron kills utility processes at quit without telling them, so the first `before-quit`
 * is held until the store has stopped (LevelDB closed, listeners drained), then quitting resumes.
 */
export function stopStoreBeforeQuit(app: Pick<App, 'on' | 'quit'>, supervisor: Pick<Supervisor, 'stop'>): void {
  let storeStopped = false;
  app.on('before-quit', (event) => {
    if (storeStopped) return;
    event.preventDefault();
    void supervisor.stop().finally(() => {
      storeStopped = true;
      app.quit();
    });
  });
}
