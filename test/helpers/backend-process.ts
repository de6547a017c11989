import { fork, type ChildProcess } from 'node:child_process';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import type { BackendMessage } from '../../backend/src/process/messages.js';

export const childEntry = new URL('../../backend/src/child.ts', import.meta.url);

/** The backend as a real child process, started the way a parent (Electron main, a supervisor) does. */
export function forkBackend(): ChildProcess {
  return fork(childEntry, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
}

/** Resolves with the next message of that type from the child; rejects if it exits first. */
export function nextMessage<T extends BackendMessage['type']>(child: ChildProcess, type: T): Promise<Extract<BackendMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: BackendMessage) => {
      if (message?.type !== type) return;
      cleanup();
      resolve(message as Extract<BackendMessage, { type: T }>);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`backend exited with ${code} before sending ${type}`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export interface Backend {
  child: ChildProcess;
  port: number;
  token: string;
}

/** A backend child on `dataDir`; every child goes into `children` so the caller can reap it. */
export async function startBackendOn(dataDir: string, children: Set<ChildProcess>): Promise<Backend> {
  const token = createLaunchToken();
  const child = forkBackend();
  children.add(child);
  child.send({ type: 'start', config: { dataDir, token, logLevel: 'silent' } });
  const { port } = await nextMessage(child, 'ready');
  return { child, port, token };
}
