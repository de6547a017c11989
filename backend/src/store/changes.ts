/** What a change did; events carry it as `operation`. */
export const changeOperations = ['created', 'patch', 'deleted', 'access-granted', 'access-removed'] as const;
export type ChangeOperation = (typeof changeOperations)[number];

/** A record of one mutation, written in the same batch as the data it describes. */
export interface ChangeInput {
  operation: ChangeOperation;
  kind: string;
  id: string;
  parent?: string;
  data?: unknown;
  /**
   * The section whose record `id` is `data`, for records that never change once written (history
   * entries): the feed stores the change without `data`, and reading the feed puts it back (see
   * `withStoredData`), so a batch of entries is not encoded and written twice. A change read
   * after its record was removed has no `data`; the removal's own change follows it.
   */
  dataSection?: string;
  /** Event paths the change is delivered on, e.g. `/files` and `/files/{key}`. */
  paths: string[];
  /**
   * Who may see it: readers of a file (checked at delivery time), or one user's own records and,
   * when `files` names any, the readers of those (a history entry attached to a space or project).
   * `revoked` names the users an `access-removed` change took access from: they cannot read the
   * file any more but still receive this one change (and nothing after it).
   */
  visibility: { file: string; revoked?: string[] } | { user: string; files?: string[] };
}

export interface Change extends ChangeInput {
  seq: number;
  time: number;
}

/** Sequence numbers as fixed-width keys so that key order is numeric order. */
export function seqKey(seq: number): string {
  return seq.toString().padStart(16, '0');
}

/**
 * The feed by event path (`changes-by-path`, `{path}\0{seq key}` -> seq), written in the batch of
 * each change and removed with it by compaction: a `path` reader reads that path's changes only.
 */
export const CHANGES_BY_PATH = 'changes-by-path';

export function pathIndexKeys(change: Pick<Change, 'seq' | 'paths'>): string[] {
  return change.paths.map((path) => `${path}\0${seqKey(change.seq)}`);
}

/** What the feed stores of a change: without `data` when its record holds it (see `dataSection`). */
export function storedChange(change: Change): Change {
  return change.dataSection === undefined ? change : { ...change, data: undefined };
}
