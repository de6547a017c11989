/**
 * Where the attempt counters of the sign-in limits live: this process's memory, or, for instances
 * sharing one PostgreSQL database, the database, so that a guesser spreading attempts over the
 * instances is counted once. Entries are small and expire; none is part of the store's data.
 */
export interface AttemptState {
  /** The value of `key`, unless it expired by `now`. */
  get<V>(key: string, now: number): Promise<V | undefined>;
  /** Replaces the value of `key` (undefined when absent or expired) with `change`'s, atomically, kept until `expires`. */
  update<V>(key: string, change: (current: V | undefined) => V, now: number, expires: number): Promise<V>;
}

/** Above this many entries, expired ones are dropped, then the oldest, so memory stays bounded. */
const keepAtMost = 10_000;

export function memoryAttemptState(): AttemptState {
  const entries = new Map<string, { value: unknown; expires: number }>();
  const live = (key: string, now: number) => {
    const entry = entries.get(key);
    return entry && entry.expires > now ? entry.value : undefined;
  };
  return {
    async get<V>(key: string, now: number) {
      return live(key, now) as V | undefined;
    },
    async update<V>(key: string, change: (current: V | undefined) => V, now: number, expires: number) {
      const value = change(live(key, now) as V | undefined);
      entries.delete(key);
      entries.set(key, { value, expires });
      if (entries.size > keepAtMost) {
        for (const [name, entry] of entries) if (entry.expires <= now) entries.delete(name);
        // A Map iterates in insertion order: the first are the oldest.
        for (const name of entries.keys()) {
          if (entries.size <= keepAtMost) break;
          entries.delete(name);
        }
      }
      return value;
    },
  };
}
