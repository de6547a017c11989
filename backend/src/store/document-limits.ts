import { StoreError } from './store-error.js';

/** What one stored JSON document may hold: its encoded size and how deeply it nests. */
export interface DocumentLimits {
  maxBytes: number;
  maxDepth: number;
}

/**
 * Whether arrays and objects nest more than `maxDepth` levels in `value` (a scalar is level 0,
 * `[]` level 1). The recursion never goes deeper than `maxDepth + 1` frames, whatever the input,
 * and stops at the first branch that is too deep.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (maxDepth === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestsDeeperThan(item, maxDepth - 1)) return true;
    return false;
  }
  for (const key in value) if (nestsDeeperThan((value as Record<string, unknown>)[key], maxDepth - 1)) return true;
  return false;
}

/** Refuses JSON nested deeper than `maxDepth`: encoding it again, to store or send it, would overflow the stack. */
export function checkDepth(value: unknown, maxDepth: number): void {
  if (nestsDeeperThan(value, maxDepth)) {
    throw new StoreError('too_deep', `Arrays and objects may nest at most ${maxDepth} levels deep.`);
  }
}

/**
 * A document about to be stored must fit in `maxBytes` however it was built: a create carries it
 * in a body that may be sized for contents, and patches can grow it step by step. (Its depth is
 * checked where it comes in: bodies at the edge, patched documents by `applyJsonPatch`.)
 */
export function checkSize(document: unknown, maxBytes: number, what: string): void {
  checkByteSize(Buffer.byteLength(JSON.stringify(document)), maxBytes, what);
}

/** Refuses `bytes` beyond `maxBytes`, stating the limit. */
export function checkByteSize(bytes: number, maxBytes: number, what: string): void {
  if (bytes > maxBytes) {
    throw new StoreError('payload_too_large', `${what} may take at most ${maxBytes} bytes; this one takes ${bytes}.`, { extra: { limit: maxBytes } });
  }
}
