import type { ForkOptions, UtilityProcess } from 'electron';
import type { BackendProcess, ForkBackend } from './backend-process.js';

export type UtilityFork = (modulePath: string, args?: string[], options?: ForkOptions) => UtilityProcess;

/**
 * Variables that would make Node run code the app did not ship: `NODE_OPTIONS=--require …`,
 * `NODE_PATH`, and `ELECTRON_RUN_AS_NODE`. The fuses turn them off for the app itself; the
 * backend's environment goes without them too.
 */
const codeLoadingVariables = ['NODE_OPTIONS', 'NODE_PATH', 'ELECTRON_RUN_AS_NODE'];

/** The backend's environment: the app's, without the variables that load code. */
function backendEnvironment(parentEnv: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(parentEnv).filter((entry): entry is [string, string] => entry[1] !== undefined && !codeLoadingVariables.includes(entry[0].toUpperCase())),
  );
}

/**
 * Forks the backend as an Electron utility process (`utilityProcess.fork`, only after `ready`),
 * its output appended to `log`. Its environment is the app's minus the code-loading variables;
 * the token travels only in the `start` message, never there.
 */
export function utilityProcessForker(fork: UtilityFork, entry: string, log: NodeJS.WritableStream, parentEnv: NodeJS.ProcessEnv): ForkBackend {
  return (): BackendProcess => {
    const child = fork(entry, [], { serviceName: 'api-store backend', stdio: 'pipe', env: backendEnvironment(parentEnv) });
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
