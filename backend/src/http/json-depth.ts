import { ApiError } from './problem.js';

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
export function checkJsonDepth(value: unknown, maxDepth: number): void {
  if (nestsDeeperThan(value, maxDepth)) {
    throw new ApiError('too_deep', `Arrays and objects may nest at most ${maxDepth} levels deep.`);
  }
}
