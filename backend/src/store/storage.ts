import type { AttemptState } from './attempt-state.js';

/**
 * The narrow storage interface every route goes through. It is an ordered key-value store split
 * into named sections (one per record type or index) with atomic multi-section writes: enough
 * for LevelDB today and for a SQL table of (section, key, value) tomorrow.
 */
export interface KeyRange {
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
  reverse?: boolean;
  limit?: number;
}

export type WriteOp =
  | { type: 'put'; section: string; key: string; value: unknown }
  | { type: 'del'; section: string; key: string };

/** Where writes wait for the one `write` that applies them together: a mutation's batch, or a migration's. */
export interface WriteStaging {
  put(section: string, key: string, value: unknown): void;
  del(section: string, key: string): void;
}

/** Stages writes as operations appended to `ops`. */
export function stagingOf(ops: WriteOp[]): WriteStaging {
  return {
    put: (section, key, value) => ops.push({ type: 'put', section, key, value }),
    del: (section, key) => ops.push({ type: 'del', section, key }),
  };
}

/** One stored record, with the section it lives in. */
export interface StoredRecord {
  section: string;
  key: string;
  value: unknown;
}

/** The reads. */
export interface StorageReader {
  get<T>(section: string, key: string): Promise<T | undefined>;
  /**
   * A record's JSON text as stored: `JSON.stringify` of the value written, so the same text as
   * encoding what `get` gives. For a route that answers with the record as it is, which then
   * neither decodes nor encodes it twice.
   */
  getJson(section: string, key: string): Promise<string | undefined>;
  getMany<T>(section: string, keys: string[]): Promise<(T | undefined)[]>;
  /** Entries in key order (or reverse), bounded by the range. */
  entries<T>(section: string, range?: KeyRange): AsyncIterable<[string, T]>;
  keys(section: string, range?: KeyRange): AsyncIterable<string>;
  /** The keys of a range read at once: cheaper per key than `keys` for reads of many (bound them with `limit`). */
  keyList(section: string, range: KeyRange): Promise<string[]>;
  /** The entries of a range read at once, as `keyList` reads keys. */
  entryList<T>(section: string, range: KeyRange): Promise<[string, T][]>;
  /**
   * Every record of every section, ordered by section name, then key. A whole-store walk, for
   * admin work only (verify, backups): no request may call it.
   */
  records(): AsyncIterable<StoredRecord>;
  /** The first `limit` records of `records`' order, without their values: what a store holds, read cheaply (its check at open). */
  recordKeys(limit: number): Promise<Omit<StoredRecord, 'value'>[]>;
}

/** A read-only view of the whole store frozen at the moment it was taken. */
export interface StorageSnapshot extends StorageReader {
  close(): Promise<void>;
}

export interface Storage extends StorageReader {
  /** What keeps the records, as `GET /store` reports it. */
  readonly kind: 'leveldb' | 'postgres';
  /**
   * A consistent view for whole-store reads while writes go on: verify and backups read every
   * section from the same point in time, without holding up writers.
   */
  snapshot(): Promise<StorageSnapshot>;
  /** Applies every operation or none. */
  write(ops: WriteOp[]): Promise<void>;
  /** Removes every record of a section at once, for a migration that retires it (not atomic with other writes). */
  clear(section: string): Promise<void>;
  close(): Promise<void>;
}

/** The writes of one transaction of a shared storage. */
export interface Transaction {
  write(ops: WriteOp[]): Promise<void>;
  /** Reserves `count` consecutive seqs of the change feed for this transaction; returns the first. */
  claimSeqs(count: number): Promise<number>;
}

/**
 * A storage several api-store instances share (PostgreSQL). Mutations run in `transaction`, whose
 * reads (through this storage's reader methods) and writes see one snapshot; one that conflicts
 * with another instance's runs again from the start. Commits are announced to every instance.
 */
export interface SharedStorage extends Storage {
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Called with the feed's last seq after another instance (or this one) commits changes, and on every reconnect. */
  onCommitted(listener: (seq: number) => void): () => void;
  /** Runs `work` while no other instance runs an `exclusive` one (the store's schema migrations at start). */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** The feed's last seq as the database knows it. */
  lastSeq(): Promise<number>;
  /** Moves the feed's counter up to at least `seq` (a store copied in brings its feed). */
  adoptSeq(seq: number): Promise<void>;
  /** The sign-in attempt counters every instance shares (kept apart from the records: never backed up or copied). */
  readonly attempts: AttemptState;
}

export function isShared(storage: Storage): storage is SharedStorage {
  return 'transaction' in storage;
}
