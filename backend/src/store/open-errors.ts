/**
 * Why a data directory cannot be opened. Each says what is wrong and what to do; none is ever
 * "fixed" by writing to the directory: the user decides (restore a backup, pick another folder).
 */
export class StoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Another process holds the data directory's LevelDB lock. */
export class StoreLockedError extends StoreOpenError {
  constructor(dataDir: string) {
    super(`The store in ${dataDir} is in use by another api-store (the desktop app or a --server). Stop it or choose another --data-dir.`);
  }
}

/** LevelDB reports damage it cannot read past. */
export class StoreCorruptedError extends StoreOpenError {
  constructor(location: string, detail: string) {
    super(`The store in ${location} is damaged or unreadable and was not opened (${detail}). Nothing was changed: restore a backup with \`api-store restore\` into a new --data-dir.`);
  }
}

/** The directory holds something that is not an api-store data directory. */
export class ForeignDataError extends StoreOpenError {
  constructor(location: string, detail: string) {
    super(`${location} is not an api-store data directory (${detail}). Nothing was changed: choose an empty or new --data-dir, or the one api-store created.`);
  }
}

/** The store was written by a newer api-store, whose schema this one does not know. */
export class NewerStoreError extends StoreOpenError {
  constructor(stored: number, known: number) {
    super(`The store was written by a newer api-store (schema ${stored}; this one knows up to ${known}). Nothing was changed: update api-store, or restore a backup taken before the upgrade into a new --data-dir.`);
  }
}

/**
 * The database server is out of reach (a shared store on PostgreSQL): the request fails with 503
 * and the pool reconnects by itself once the server is back.
 */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('The database is unavailable; try again shortly.', { cause });
    this.name = 'StoreUnavailableError';
  }
}
