import { spawn, type ChildProcess } from 'node:child_process';
import { exitOf } from './backend-process.js';

/** The `api-store` command as a real child process, and ways to read what it prints. */
export const bin = new URL('../../bin/api-store.js', import.meta.url).pathname;

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const { API_STORE_TOKEN: _ignored, ...rest } = process.env;
  return spawn(process.execPath, [bin, ...args], { env: { ...rest, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collects a stream's text (stdout unless told) and resolves once a line matches. */
export function waitForLine(child: ChildProcess, pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    child[stream]!.on('data', (chunk) => {
      text += chunk;
      const match = text.match(pattern);
      if (match) resolve(match);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}: ${text}`)));
  });
}

export async function outputOf(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const { code } = await exitOf(child);
  return { code, stdout, stderr };
}
