import type { BackendMessage } from './messages.js';

/** The message channel to whoever started this process, whatever kind of parent that is. */
export interface ParentLink {
  send(message: BackendMessage): void;
  onMessage(listener: (data: unknown) => void): void;
  /** The parent went away without saying `shutdown`. */
  onGone(listener: () => void): void;
}

interface UtilityPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

type ProcessLike = NodeJS.Process & { parentPort?: UtilityPort };

/**
 * Electron's `utilityProcess.fork` gives `process.parentPort`; `child_process.fork` gives
 * `process.send`; a plain CLI has neither (undefined).
 */
export function linkToParent(proc: ProcessLike = process): ParentLink | undefined {
  const port = proc.parentPort;
  if (port) {
    return {
      send: (message) => port.postMessage(message),
      onMessage: (listener) => port.on('message', ({ data }) => listener(data)),
      // Electron ends utility processes with the app; there is no disconnect event to watch.
      onGone: () => {},
    };
  }
  if (proc.send) {
    return {
      send: (message) => {
        if (proc.connected) proc.send?.(message);
      },
      onMessage: (listener) => proc.on('message', listener),
      onGone: (listener) => proc.on('disconnect', listener),
    };
  }
  return undefined;
}
