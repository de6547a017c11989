import { join } from 'node:path';
import { z } from 'zod';
import { readPrivateFile, writePrivateFile } from '../backend/src/data-dir.js';
import type { LanChoice } from './supervisor.js';

/** Beside the store's files in the data dir, 0600 like them. */
export const lanChoiceFile = 'lan-sharing.json';

const lanChoiceSchema = z.object({ enabled: z.boolean(), port: z.number().int().min(1).max(65535).optional() });

/**
 * The LAN-sharing choice of the last run. Sharing starts only on a clear yes: a missing file, one
 * that is not valid, or one refused as untrusted (a link, another user's, readable by others)
 * means off.
 */
export async function loadLanChoice(dataDir: string): Promise<LanChoice> {
  try {
    return lanChoiceSchema.parse(JSON.parse(await readPrivateFile(join(dataDir, lanChoiceFile))));
  } catch {
    return { enabled: false };
  }
}

export interface LanChoiceKeeper {
  keep(choice: LanChoice): void;
  /** Resolves once every choice kept so far is on disk (or reported): waited for at quit. */
  written(): Promise<void>;
}

/**
 * Keeps each new choice. Writes go one after the other, so the file ends with the last choice; a
 * failed write is reported and the next one tries again.
 */
export function lanChoiceKeeper(dataDir: string, onError: (error: Error) => void): LanChoiceKeeper {
  let writing = Promise.resolve();
  return {
    keep: (choice) => void (writing = writing.then(() => writePrivateFile(join(dataDir, lanChoiceFile), JSON.stringify(choice)).catch(onError))),
    written: () => writing,
  };
}
