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

export interface Storage {
  get<T>(section: string, key: string): Promise<T | undefined>;
  getMany<T>(section: string, keys: string[]): Promise<(T | undefined)[]>;
  /** Entries in key order (or reverse), bounded by the range. */
  entries<T>(section: string, range?: KeyRange): AsyncIterable<[string, T]>;
  keys(section: string, range?: KeyRange): AsyncIterable<string>;
  /** Applies every operation or none. */
  write(ops: WriteOp[]): Promise<void>;
  close(): Promise<void>;
}
