import type { App, Event } from 'electron';
import type { Supervisor } from './supervisor.js';

/**
 * The quit handshake, a `before-quit` listener. Electron kills utility processes at quit without
 * telling them, so the first `before-quit` is held until the store has stopped (LevelDB closed,
 * listeners drained), then quitting resumes.
 */
export function quitHandshake(app: Pick<App, 'quit'>, supervisor: Pick<Supervisor, 'stop'>): (event: Pick<Event, 'preventDefault'>) => void {
  let storeStopped = false;
  return (event) => {
    if (storeStopped) return;
    event.preventDefault();
    void supervisor.stop().finally(() => {
      storeStopped = true;
      app.quit();
    });
  };
}
