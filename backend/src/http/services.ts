import type { Accounts } from '../auth/accounts.js';
import type { Backups } from '../backup/snapshots.js';
import type { StoreConfig } from '../config.js';
import type { EventHub } from '../events/hub.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Cursors } from './cursor.js';
import type { KeyRotation } from '../secrets/rotation.js';

/** What routes need, passed in once when the app is built. */
export interface Services {
  config: StoreConfig;
  store: Store;
  cursors: Cursors;
  log: Logger;
  version: string;
  /** The loopback listener's real port, known once it listens. */
  port: () => number;
  /** Delivers committed changes to the event sockets of every listener. */
  events: EventHub;
  /** Session tokens and login attempt counters of multi-user mode. */
  accounts: Accounts;
  /** The store's backups in `<dataDir>/backups/`. */
  backups: Backups;
  /** The data key rotation job (`POST /secrets/rotation`, `api-store rotate-key`). */
  rotation: KeyRotation;
}
