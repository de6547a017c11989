import { fork, type ChildProcess } from 'node:child_process';
import type { ForkBackend } from '../../main/backend-process.js';
import { childEntry } from './backend-process.js';

/**
 * The fork function the supervisor gets in tests: `child_process.fork` of a real entry (by
 * default the real backend's source, through tsx). Keeps every child so the test can kill and
 * reap them.
 */
export function childProcessForker(entry: URL = childEntry, execArgv = ['--import', 'tsx']): ForkBackend & { children: ChildProcess[] } {
  const children: ChildProcess[] = [];
  const forkBackend = () => {
    const child = fork(entry, [], { execArgv, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    // A send racing the child's exit reports an error event; the exit is what counts.
    child.on('error', () => {});
    children.push(child);
    return {
      send: (message: unknown) => {
        if (child.connected) child.send(message as object);
      },
      onMessage: (listener: (data: unknown) => void) => void child.on('message', listener),
      onExit: (listener: (code: number | null) => void) => void child.once('exit', (code) => listener(code)),
      kill: () => void child.kill('SIGKILL'),
    };
  };
  return Object.assign(forkBackend, { children });
}

/** Kills whatever is still running; for test cleanup. */
export function reap(children: ChildProcess[]): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
