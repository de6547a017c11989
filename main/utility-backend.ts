import type { ForkOptions, UtilityProcess } from 'electron';
import type { BackendProcess, ForkBackend } from './backend-process.js';

type UtilityFork = (modulePath: string, args?: string[], options?: ForkOptions) => UtilityProcess;

/**
 * Forks the backend as an Electron utility process (`utilityProcess.fork`, only after `ready`),
 * its output appended to `log`. No `env` is passed: the child inherits the app's environment,
 * and the token travels only in the `start` message.
 */
export function utilityProcessForker(fork: UtilityFork, entry: string, log: NodeJS.WritableStream): ForkBackend {
  return (): BackendProcess => {
    const child = fork(entry, [], { serviceName: 'api-store backend', stdio: 'pipe' });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    return {
      send: (message) => child.postMessage(message),
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => child.once('exit', listener),
      // UtilityProcess.kill() is a SIGTERM, which the backend answers with a graceful stop; a
      // backend that ignored `shutdown` needs SIGKILL.
      kill: () => {
        if (child.pid === undefined) return void child.kill();
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      },
    };
  };
}
