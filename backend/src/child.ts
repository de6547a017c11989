/**
 * Entry of the backend as a child process (Electron utility process or child_process.fork).
 * The parent sends `start {config}`; the token arrives in that message, never in argv or env.
 */
import { parseConfig } from './config.js';
import { createLogger } from './logger.js';
import { parentMessageSchema } from './process/messages.js';
import { linkToParent } from './process/parent-link.js';
import { startStoreWhileLoading } from './process/start-store.js';
import type { RunningStore } from './server.js';
import { StoreOpenError } from './store/open-errors.js';
import { keyRingFromJson, keyRingToJson, type KeyRing } from './secrets/key-ring.js';
import { givenKeySource } from './secrets/key-source.js';

// Everything this process creates (LevelDB's files included) is the user's alone.
process.umask(0o077);
const parent = linkToParent();
if (!parent) {
  process.stderr.write('This entry is started by the desktop app; run `api-store --server` instead.\n');
  process.exit(2);
}

// The server's code loads while this process waits for `start` (see startStoreWhileLoading).
const server = import('./server.js');
let running: RunningStore | undefined;
let stopping = false;

/** Key rings sent to the parent to keep, by request id, until it answers `key-ring-saved`. */
const savingKeys = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
let nextKeyRequest = 1;
function saveKeysWithParent(ring: KeyRing): Promise<void> {
  const id = nextKeyRequest++;
  return new Promise((resolve, reject) => {
    savingKeys.set(id, { resolve, reject });
    parent!.send({ type: 'key-ring', id, ring: keyRingToJson(ring) });
  });
}

function fatal(message: string): never {
  parent!.send({ type: 'fatal', message });
  process.exit(1);
}

async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await running?.stop();
  parent!.send({ type: 'stopped' });
  process.exit(0);
}

parent.onMessage(async (data) => {
  const message = parentMessageSchema.safeParse(data);
  if (!message.success) return;
  if (message.data.type === 'shutdown') return shutdown();
  if (message.data.type === 'key-ring-saved') {
    const { id, error } = message.data;
    const waiting = savingKeys.get(id);
    savingKeys.delete(id);
    if (error) waiting?.reject(new Error(`the desktop app could not keep the new data key: ${error}`));
    else waiting?.resolve();
    return;
  }
  if (message.data.type === 'lan') {
    if (!running || stopping) return parent!.send({ type: 'lan-status', enabled: false, error: 'The store is not running.' });
    // Only the LAN listener starts or stops; the loopback listener and its clients are not touched.
    const { enabled, host, port } = message.data;
    const defaults = running.services.config.lan;
    const status = enabled ? await running.lan.enable({ host: host ?? defaults.host, port: port ?? defaults.port }) : await running.lan.disable();
    return parent!.send({ type: 'lan-status', ...status });
  }
  if (message.data.type === 'start') {
    if (running) return;
    const config = parseConfig(message.data.config);
    if (!config.success) fatal(`Invalid configuration: ${config.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    try {
      const { keys } = message.data;
      const keySource = keys ? givenKeySource({ ...keys, ring: keys.ring && keyRingFromJson(keys.ring) }, saveKeysWithParent) : undefined;
      running = await startStoreWhileLoading(config.data, createLogger(config.data.logLevel), { keySource }, server);
      parent!.send({ type: 'ready', port: running.port, ...(running.warnings.length ? { warnings: running.warnings } : {}) });
    } catch (error) {
      fatal(error instanceof StoreOpenError ? error.message : `The store could not start: ${(error as Error).message}`);
    }
  }
});
parent.onGone(shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
