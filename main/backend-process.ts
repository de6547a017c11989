import type { ParentMessage } from '../backend/src/process/messages.js';

/**
 * One running backend process, whoever started it: Electron's `utilityProcess.fork` in the app,
 * `child_process.fork` in tests. The supervisor sees only this.
 */
export interface BackendProcess {
  send(message: ParentMessage): void;
  onMessage(listener: (data: unknown) => void): void;
  /** Called once when the process is gone, whatever the reason. */
  onExit(listener: (code: number | null) => void): void;
  /** Ends the process at once; the last resort when it does not stop when asked. */
  kill(): void;
}

export type ForkBackend = () => BackendProcess;
