/** `api-store rotate-key`: re-seal every secret under a new data key, through the running store or offline. */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { keyFileOf, parseCommandArgs, UsageError } from './cli-args.js';
import { CommandFailed } from './cli-backup.js';
import { defaultDataDir } from './config.js';
import { createLogger } from './logger.js';
import { runningServerOn } from './running-server.js';
import { dataDirKeySource } from './secrets/key-source.js';
import { KeyRotation, type RotationStatus } from './secrets/rotation.js';
import { openSecrets } from './secrets/secrets.js';
import { openDataDir } from './store/open-data-dir.js';
import { StoreLockedError } from './store/open-errors.js';
import { Store } from './store/store.js';

export interface RotateKeyIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  /** How often the running store's progress is read. */
  pollMs?: number;
}

const report = (status: RotationStatus) => `data key rotated: every secret is sealed with key ${status.keyId} (${status.resealed} re-sealed)\n`;

/** Runs the command; answers the exit code. */
export async function runRotateKeyCommand(argv: string[], io: RotateKeyIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { 'data-dir': { type: 'string' }, 'key-file': { type: 'string' } });
  if (positionals.length) throw new UsageError('the rotate-key command is `api-store rotate-key [--data-dir <path>] [--key-file <path>]`');
  const dataDir = values['data-dir'] ?? defaultDataDir(io.env);
  try {
    await access(join(dataDir, 'db'));
  } catch {
    throw new CommandFailed(`there is no store in ${dataDir}.`);
  }
  let storage;
  try {
    storage = await openDataDir(dataDir, { sync: true });
  } catch (error) {
    if (!(error instanceof StoreLockedError)) throw error;
    return rotateThroughServer(dataDir, io);
  }
  try {
    const store = await Store.open(storage);
    store.secrets = await openSecrets(store, dataDirKeySource(dataDir, keyFileOf(values['key-file'], io.env)));
    if (store.secrets.problem) throw new CommandFailed(`the key cannot be rotated: ${store.secrets.problem}`);
    const rotation = new KeyRotation(store, { batchSize: 500, pauseMs: 0, log: createLogger('silent') });
    rotation.start();
    await rotation.finished();
    const status = rotation.status;
    if (status.state !== 'done') throw new CommandFailed(`the rotation failed (${status.error}); both keys are kept, run the command again.`);
    io.stdout(report(status));
    return 0;
  } finally {
    await storage.close();
  }
}

/** The store running on this data dir rotates its own key, in the background; this waits for it. */
async function rotateThroughServer(dataDir: string, io: RotateKeyIo): Promise<number> {
  const info = await runningServerOn(dataDir, io.env);
  if (!info) throw new CommandFailed(`the store in ${dataDir} is in use by the desktop app, whose key is in the OS keychain: quit it first.`);
  if (!info.token) throw new CommandFailed(`the store in ${dataDir} runs in multi-user mode: rotate with POST /secrets/rotation as an admin.`);
  const call = async (method: string): Promise<RotationStatus> => {
    let response: Response;
    try {
      response = await fetch(`${info.url}/secrets/rotation`, { method, headers: { Authorization: `Bearer ${info.token}` } });
    } catch (error) {
      throw new CommandFailed(`the running store at ${info.url} did not answer (${(error as Error).message}).`);
    }
    const body = (await response.json()) as RotationStatus & { detail?: string };
    if (!response.ok) throw new CommandFailed(`the running store refused the rotation (${response.status}): ${body.detail}`);
    return body;
  };
  let status = await call('POST');
  io.stdout(`the running store is re-sealing every secret under key ${status.keyId ?? '(new)'}…\n`);
  while (status.state === 'running') {
    await sleep(io.pollMs ?? 200);
    status = await call('GET');
  }
  if (status.state !== 'done') throw new CommandFailed(`the rotation failed (${status.error}); the store keeps both keys and finishes it at its next start.`);
  io.stdout(report(status));
  return 0;
}
