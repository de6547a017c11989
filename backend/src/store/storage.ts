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

/** One stored record, with the section it lives in. */
export interface StoredRecord {
  section: string;
  key: string;
  value: unknown;
}

/** The reads. */
export interface StorageReader {
  get<T>(section: string, key: string): Promise<T | undefined>;
  getMany<T>(section: string, keys: string[]): Promise<(T | undefined)[]>;
  /** Entries in key order (or reverse), bounded by the range. */
  entries<T>(section: string, range?: KeyRange): AsyncIterable<[string, T]>;
  keys(section: string, range?: KeyRange): AsyncIterable<string>;
  /** The keys of a range read at once: cheaper per key than `keys` for reads of many (bound them with `limit`). */
  keyList(section: string, range: KeyRange): Promise<string[]>;
  /**
   * Every record of every section, ordered by section name, then key. A whole-store walk, for
   * admin work only (verify, backups): no request may call it.
   */
  records(): AsyncIterable<StoredRecord>;
}

/** A read-only view of the whole store frozen at the moment it was taken. */
export interface StorageSnapshot extends StorageReader {
  close(): Promise<void>;
}

export interface Storage extends StorageReader {
  /**
   * A consistent view for whole-store reads while writes go on: verify and backups read every
   * section from the same point in time, without holding up writers.
   */
  snapshot(): Promise<StorageSnapshot>;
  /** Applies every operation or none. */
  write(ops: WriteOp[]): Promise<void>;
  close(): Promise<void>;
}
