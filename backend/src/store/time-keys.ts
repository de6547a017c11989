/**
 * Keys whose string order is time order, for records listed newest or oldest first (history
 * entries, app records). Base-36 digits keep them short and URL-safe.
 */

/** The latest time a sortable key can hold: 9 base-36 digits of milliseconds reach the year 5138. */
export const MAX_SORTABLE_TIME = 36 ** 9 - 1;

/** Milliseconds since the epoch as 9 base-36 digits, so that comparing strings compares times. */
export function sortableTime(ms: number): string {
  return Math.trunc(ms).toString(36).padStart(9, '0');
}

/**
 * A record key: its time, then a counter that the caller persists and increments for every key
 * it hands out. The counter makes keys unique for good (many in one millisecond, across restarts,
 * even for times given by clients) and orders keys of the same millisecond by creation.
 */
export function timeOrderedKey(ms: number, counter: number): string {
  return sortableTime(ms) + counter.toString(36).padStart(10, '0');
}
