import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's old generation within 1.25 times what the last full GC left alive. By default V8
 * lets it grow to several times that under load (an 80-120 MiB heap around ~25 MiB of live
 * objects in the soak), and the cost outlives the garbage: the process's malloc'd memory (V8's
 * off-heap bookkeeping, by all signs) grew with the heap, and glibc kept those pages once the heap
 * shrank, so the store's RSS stayed tens of MiB higher after every busy spell (4 minutes of the soak's load: +87 MiB of malloc'd memory
 * by default, +20 MiB with this limit, at about the same request rate). A store that mostly idles
 * can afford the more frequent (concurrent) full GCs. Set once the store has started: while the
 * code loads the heap only grows, and the limit would cost the start several more GCs.
 *
 * Plain Node only: V8 under Chromium (Electron) may have frozen its flags at start, and a flag
 * set then aborts the process.
 */
export function limitHeapGrowth(): void {
  if (process.versions.electron !== undefined) return;
  setFlagsFromString('--heap-growing-percent=25');
}
