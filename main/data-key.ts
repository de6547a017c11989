/**
 * The desktop app's data key: created on first run, kept encrypted by the OS keychain through
 * Electron's `safeStorage` in `<userData>/data-key.safe`, and handed to the backend in the `start`
 * message. On Linux without a keyring `safeStorage` falls back to `basic_text`, which protects
 * nothing: the key then stays in a 0600 file and the user is told so, rather than led to believe
 * it is protected.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import { readPrivateFile, writePrivateFile } from '../backend/src/data-dir.js';
import { generateDataKey, keyRingFromJson, keyRingText, keyRingToJson, parseKeyRing, type KeyRing, type KeyRingJson } from '../backend/src/secrets/key-ring.js';

export type KeyStorage = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'>;

/** What the backend gets in `start.keys`, and what the user must hear about it. */
export interface DesktopKeys {
  keys: { ring?: KeyRingJson; source: string; problem?: string };
  /** Shown in the tray: the key is not protected by a keyring. */
  warning?: string;
}

const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await readPrivateFile(path);
  } catch (error) {
    if (missing(error)) return undefined;
    throw error;
  }
}

/** Whether `safeStorage` really encrypts: available, and on Linux not the `basic_text` fallback. */
export function keychainProtects(safeStorage: KeyStorage, platform: NodeJS.Platform): boolean {
  if (!safeStorage.isEncryptionAvailable()) return false;
  return platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text';
}

const keyFiles = (userData: string) => ({ safeFile: join(userData, 'data-key.safe'), plainFile: join(userData, 'data-key.json') });

/** Keeps a key ring a rotation made, where `loadDesktopKeys` reads it (through the keychain when it protects). */
export async function saveDesktopKeys(safeStorage: KeyStorage, userData: string, ring: KeyRingJson, platform: NodeJS.Platform = process.platform): Promise<void> {
  const { safeFile, plainFile } = keyFiles(userData);
  const text = keyRingText(keyRingFromJson(ring));
  if (keychainProtects(safeStorage, platform)) await writePrivateFile(safeFile, safeStorage.encryptString(text).toString('base64'));
  else await writePrivateFile(plainFile, text);
}

/**
 * Loads the data key ring, or makes one on first run. A key file that cannot be read or
 * decrypted is not replaced: the backend gets the reason, and its secrets stay locked.
 */
export async function loadDesktopKeys(safeStorage: KeyStorage, userData: string, platform: NodeJS.Platform = process.platform): Promise<DesktopKeys> {
  const { safeFile, plainFile } = keyFiles(userData);
  if (!keychainProtects(safeStorage, platform)) {
    const source = `the key file ${plainFile} (no OS keyring: safeStorage uses ${platform === 'linux' ? safeStorage.getSelectedStorageBackend() : 'no encryption'})`;
    const warning = `No OS keyring is available, so the data key that seals your secrets is kept unencrypted in ${plainFile} (readable only by you). Install and unlock a keyring (GNOME Keyring, KWallet) to protect it.`;
    try {
      let text = await readIfThere(plainFile);
      if (text === undefined) {
        text = keyRingText({ current: generateDataKey() });
        await writePrivateFile(plainFile, text);
      }
      return { keys: { ring: keyRingToJson(parseKeyRing(text)), source }, warning };
    } catch (error) {
      return { keys: { source, problem: `${source} could not be read: ${(error as Error).message}` }, warning };
    }
  }
  const source = `the OS keychain (safeStorage, ${safeFile})`;
  try {
    const sealed = await readIfThere(safeFile);
    let ring: KeyRing;
    if (sealed !== undefined) {
      ring = parseKeyRing(safeStorage.decryptString(Buffer.from(sealed, 'base64')));
    } else {
      // A key kept in the clear while no keyring was there moves under the keyring's protection.
      const plain = await readIfThere(plainFile);
      ring = plain === undefined ? { current: generateDataKey() } : parseKeyRing(plain);
      await writePrivateFile(safeFile, safeStorage.encryptString(keyRingText(ring)).toString('base64'));
      if (plain !== undefined) await rm(plainFile, { force: true });
    }
    return { keys: { ring: keyRingToJson(ring), source } };
  } catch (error) {
    return { keys: { source, problem: `${source} could not give the data key: ${(error as Error).message}` } };
  }
}
