import { join } from 'node:path';
import { readPrivateFile, writePrivateFile } from '../data-dir.js';
import { keyRingText, parseKeyRing, type KeyRing } from './key-ring.js';

/** Where the data key comes from: a 0600 key file (`--server`), or the desktop app's main process. */
export interface KeySource {
  /** Where the key is, in the words an operator needs: "the key file /srv/store.key (--key-file)". */
  readonly name: string;
  /** The key ring, or undefined when there is none yet. Throws, saying why, when it cannot be read. */
  load(): Promise<KeyRing | undefined>;
  /** Keeps a new ring (the first key, a rotation's steps); absent when this source cannot be written. */
  save?(ring: KeyRing): Promise<void>;
}

/** A key file, read and written as a private file (0600, never through a link, refused when others can read it). */
export function keyFileSource(path: string, origin: string): KeySource {
  const name = `the key file ${path} (${origin})`;
  return {
    name,
    load: async () => {
      let text: string;
      try {
        text = await readPrivateFile(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      try {
        return parseKeyRing(text);
      } catch (error) {
        throw new Error(`${name} is not an api-store key file: ${(error as Error).message}`);
      }
    },
    save: (ring) => writePrivateFile(path, keyRingText(ring)),
  };
}

/**
 * A key ring handed over by the parent process (the desktop app's main, from the OS keychain),
 * or why it could not be had; `save` asks the parent to keep a new one.
 */
export function givenKeySource(given: { ring?: KeyRing; source: string; problem?: string }, save?: (ring: KeyRing) => Promise<void>): KeySource {
  return {
    name: given.source,
    load: async () => {
      if (given.problem) throw new Error(given.problem);
      return given.ring;
    },
    ...(save ? { save } : {}),
  };
}

/** The key file of `--server` and the CLI: `--key-file`, API_STORE_KEY_FILE, or `<dataDir>/data.key`. */
export const dataDirKeySource = (dataDir: string, secrets: { keyFile?: string; keyFileOrigin?: string }): KeySource =>
  secrets.keyFile ? keyFileSource(secrets.keyFile, secrets.keyFileOrigin ?? '--key-file') : keyFileSource(join(dataDir, 'data.key'), 'the default, in the data dir');
